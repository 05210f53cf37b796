"""Signet raises one high ``unapproved_deployment`` finding per version and source while it stays open."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.audit.models import AuditEvent
from apps.notifications.models import Notification
from apps.workflows import services
from apps.workflows.choices import FindingStatus, FindingType
from apps.workflows.models import Finding
from tests.conftest import Org


def _raise(org: Org, source: str = "deployment-report:production") -> Finding | None:
    return services.finding_raise_unapproved(
        version=org.version,
        raised_by=org.it_ops,
        actor_name="deployment-report",
        source=source,
        title="Deployed without approval: pd-model v1 in production",
        description="The pipeline reported a deployment the gate refuses: no approved review.",
    )


def test_raises_one_high_finding_owned_by_the_first_owner_audited_and_announced(org: Org) -> None:
    finding = _raise(org)
    assert finding is not None
    assert (finding.kind, finding.severity, finding.status) == (FindingType.UNAPPROVED_DEPLOYMENT, "high", "open")
    assert (finding.model, finding.version, finding.owner, finding.raised_by) == (
        org.model, org.version, org.owner, org.it_ops
    )  # fmt: skip
    assert finding.get_kind_display() == "Unapproved deployment"
    event = AuditEvent.objects.filter(action="workflows.finding.raised").get()
    assert (event.actor_id, event.actor_name, event.target_id) == (None, "deployment-report", str(finding.pk))
    assert event.data["source"] == "deployment-report:production"
    told = set(Notification.objects.filter(event="finding.assigned").values_list("recipient__username", flat=True))
    assert told == {org.owner.username, org.validator.username, org.compliance.username}


def test_a_second_report_from_the_same_source_raises_nothing_until_the_first_is_closed(org: Org) -> None:
    first = _raise(org)
    assert first is not None
    assert _raise(org) is None
    assert _raise(org, source="deployment-report:staging") is not None  # another source, another finding
    assert Finding.objects.count() == 2
    assert AuditEvent.objects.filter(action="workflows.finding.raised").count() == 2
    Finding.objects.filter(pk=first.pk).update(status=FindingStatus.CLOSED)
    assert _raise(org) is not None  # closed: the next report raises a new one


def test_inside_a_callers_transaction_the_duplicate_leaves_the_transaction_usable(org: Org) -> None:
    with transaction.atomic():
        assert _raise(org) is not None
        assert _raise(org) is None
        assert Finding.objects.count() == 1  # the transaction still answers queries


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_it_commits_on_its_own() -> None:
    org = Org()
    assert _raise(org) is not None
    assert _raise(org) is None
    assert Finding.objects.filter(kind=FindingType.UNAPPROVED_DEPLOYMENT).count() == 1
