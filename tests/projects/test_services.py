"""Project services: roles, the team, KPIs, the questionnaire, the discussion — and their audit events."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.audit import selectors as audit_selectors
from apps.audit.chain import verify
from apps.audit.models import AuditEvent
from apps.projects import services
from apps.projects.models import Membership, Project
from tests.conftest import Org
from tests.factories import TeamFunction, make_user
from tests.projects.test_permission_matrix import ANSWERS

pytestmark = pytest.mark.django_db


def test_the_proposer_becomes_owner_and_both_steps_are_audited() -> None:
    beatrice = make_user("beatrice", TeamFunction.BUSINESS)
    project = services.project_create(actor=beatrice, name="Churn radar", business_objective="Keep customers.")
    assert project.slug == "churn-radar"
    assert list(Membership.objects.filter(project=project).values_list("user__username", "role")) == [
        ("beatrice", "owner")
    ]
    actions = list(AuditEvent.objects.filter(project_pk=project.pk).values_list("action", flat=True))
    assert actions == ["projects.project.created", "projects.membership.added"]


def test_people_in_no_team_and_auditors_cannot_propose() -> None:
    for user in (make_user("nobody"), make_user("audit-amy", TeamFunction.AUDIT)):
        with pytest.raises(PermissionDenied):
            services.project_create(actor=user, name="Shadow AI", business_objective="x")
    assert not Project.objects.exists()


def test_nobody_grants_themselves_a_role_not_even_an_owner_or_administrator(org: Org) -> None:
    with pytest.raises(PermissionDenied, match="Nobody grants a role to themselves"):
        services.membership_add(actor=org.owner, project=org.project, user=org.owner, role="developer")
    services.membership_add(actor=org.owner, project=org.project, user=org.administrator, role="viewer")
    with pytest.raises(PermissionDenied, match="Nobody grants a role to themselves"):
        services.membership_add(actor=org.administrator, project=org.project, user=org.administrator, role="owner")


def test_a_project_keeps_its_last_owner(org: Org) -> None:
    owner_row = Membership.objects.get(project=org.project, role="owner")
    with pytest.raises(ValidationError, match="at least one owner"):
        services.membership_remove(actor=org.owner, membership=owner_row)
    services.membership_add(actor=org.owner, project=org.project, user=org.business_owner, role="owner")
    services.membership_remove(actor=org.business_owner, membership=owner_row)
    assert not Membership.objects.filter(project=org.project, user=org.owner).exists()


def test_a_duplicate_role_is_a_clear_error(org: Org) -> None:
    with pytest.raises(ValidationError, match="already has this role"):
        services.membership_add(actor=org.owner, project=org.project, user=org.developer, role="developer")


def test_a_tier_change_is_audited_with_its_rationale_and_the_questionnaire_version(org: Org) -> None:
    services.qualification_submit(actor=org.owner, project=org.project, answers=ANSWERS)
    higher = dict(ANSWERS, impact_on_people="legal_effect")
    services.qualification_submit(actor=org.business_owner, project=org.project, answers=higher)
    org.project.refresh_from_db()
    assert org.project.risk_tier == "high"
    changes = AuditEvent.objects.filter(action="projects.project.tier_changed").order_by("seq")
    assert [e.changes["risk_tier"] for e in changes] == [
        {"before": "", "after": "low"},
        {"before": "low", "after": "high"},
    ]
    assert "Impact on people" in changes.last().data["rationale"]  # type: ignore[union-attr]
    assert changes.last().data["questionnaire_version"] == 1  # type: ignore[union-attr]
    assert org.project.qualifications.count() == 2  # history is kept


def test_the_same_answers_again_record_the_answers_but_no_tier_change(org: Org) -> None:
    services.qualification_submit(actor=org.owner, project=org.project, answers=ANSWERS)
    services.qualification_submit(actor=org.owner, project=org.project, answers=ANSWERS)
    assert AuditEvent.objects.filter(action="projects.qualification.submitted").count() == 2
    assert AuditEvent.objects.filter(action="projects.project.tier_changed").count() == 1


def test_kpi_history_is_kept_and_audited(org: Org) -> None:
    kpi = services.kpi_create(
        actor=org.owner, project=org.project, name="Approval time", target=Decimal("2"), unit="days"
    )
    for value in ("5", "4", "3.5"):
        services.kpi_record_value(actor=org.developer, kpi=kpi, value=Decimal(value))
    assert [float(v) for v in kpi.measurements.values_list("value", flat=True)] == [5.0, 4.0, 3.5]
    assert AuditEvent.objects.filter(action="projects.kpi.measured", target_id=str(kpi.pk)).count() == 3
    with pytest.raises(PermissionDenied):
        services.kpi_record_value(actor=org.validator, kpi=kpi, value=Decimal("1"))


def test_comments_are_audited_with_their_text_and_empty_ones_refused(org: Org) -> None:
    services.comment_add(actor=org.validator, project=org.project, body="  Where is the evaluation?  ")
    assert AuditEvent.objects.get(action="projects.comment.added").data == {"body": "Where is the evaluation?"}
    with pytest.raises(ValidationError):
        services.comment_add(actor=org.validator, project=org.project, body="   ")
    with pytest.raises(PermissionDenied):
        services.comment_add(actor=org.auditor, project=org.project, body="Auditors read; they do not take part.")


def test_project_edits_record_before_and_after(org: Org) -> None:
    services.project_update(actor=org.business_owner, project=org.project, status="active", name="Credit scoring 2")
    event = AuditEvent.objects.get(action="projects.project.updated")
    assert event.changes == {
        "name": {"before": "Credit scoring", "after": "Credit scoring 2"},
        "status": {"before": "proposed", "after": "active"},
    }
    assert verify(audit_selectors.audit_chain()).ok
