"""Administrators and compliance change approval policies on a page; everybody else is refused."""

from __future__ import annotations

from typing import Any

import pytest

from apps.audit.models import AuditEvent
from apps.workflows import services
from apps.workflows.models import ApprovalPolicy
from tests.conftest import Org, signed_in
from tests.workflows.conftest import Flow


def form_data(policy: ApprovalPolicy, **changes: Any) -> dict[str, Any]:
    """The edit form as a browser would post it, from the policy in force, plus ``changes``."""
    data: dict[str, Any] = {
        "review_period_days": policy.review_period_days,
        "grace_days": policy.grace_days,
        "stages-TOTAL_FORMS": len(policy.stages) + 1,
        "stages-INITIAL_FORMS": len(policy.stages),
        "stages-MIN_NUM_FORMS": 0,
        "stages-MAX_NUM_FORMS": 12,
    }
    for i, stage in enumerate(policy.stages):
        prefix = f"stages-{i}-"
        data.update({
            prefix + "key": stage["key"], prefix + "name": stage["name"],
            prefix + "project_roles": stage["project_roles"], prefix + "team": stage.get("team") or "",
            prefix + "quorum": stage["quorum"], prefix + "ORDER": i + 1,
        })  # fmt: skip
        if stage.get("independent"):
            data[prefix + "independent"] = "on"
        if stage.get("parallel"):
            data[prefix + "parallel"] = "on"
    data.update(changes)
    return data


@pytest.mark.parametrize("who", ["compliance", "administrator"])
def test_compliance_and_administrators_publish_a_new_version_from_the_page(org: Org, who: str) -> None:
    client = signed_in(org.persona(who))
    listing = client.get("/workflows/policies/")
    assert listing.status_code == 200
    assert "Independent validation" in listing.content.decode()
    policy = services.policy_in_force("medium")
    assert client.get("/workflows/policies/medium/edit/").status_code == 200
    data = form_data(
        policy,
        grace_days=14,
        **{"stages-1-quorum": 2, "stages-2-DELETE": "on"},  # two validators; drop IT readiness
        **{"stages-3-key": "compliance", "stages-3-name": "Compliance", "stages-3-project_roles": ["compliance"],
           "stages-3-quorum": 1, "stages-3-ORDER": 4, "stages-3-parallel": "on"},
    )  # fmt: skip
    response = client.post("/workflows/policies/medium/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    new = services.policy_in_force("medium")
    assert new.version == policy.version + 1
    assert [s["key"] for s in new.stages] == ["business", "validation", "compliance"]
    assert new.stages[1]["quorum"] == 2
    assert new.stages[1]["team"] == "risk_validation"
    assert new.stages[1]["independent"]
    assert new.stages[2]["parallel"] is True
    assert new.grace_days == 14
    event = AuditEvent.objects.get(action="workflows.policy.published")
    assert event.actor_id == org.persona(who).pk
    assert event.changes["grace_days"] == {"before": 0, "after": 14}


@pytest.mark.parametrize("who", ["owner", "developer", "validator", "it_ops", "auditor", "outsider"])
def test_other_people_cannot_open_or_post_the_policy_pages(org: Org, who: str) -> None:
    client = signed_in(org.persona(who))
    policy = services.policy_in_force("low")
    assert client.get("/workflows/policies/").status_code == 403
    assert client.get("/workflows/policies/low/edit/").status_code == 403
    assert client.post("/workflows/policies/low/edit/", form_data(policy, grace_days=30)).status_code == 403
    assert services.policy_in_force("low").pk == policy.pk


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stages-0-quorum": 0}, "greater than or equal to 1"),
        ({"stages-0-key": "Bad Key!"}, "lowercase letters"),
        ({"stages-0-project_roles": []}, "This field is required"),
        ({"stages-0-project_roles": ["emperor"]}, "not one of the available choices"),
        ({"stages-0-DELETE": "on"}, "at least one stage"),
        ({"stages-0-parallel": "on"}, "first stage cannot run in parallel"),
        ({"review_period_days": 5}, "greater than or equal to 30"),
        ({"grace_days": 400}, "less than or equal to 90"),
        ({"stages-0-team": "pirates"}, "not one of the available choices"),
        ({"stages-0-name": "x\x00y"}, "Null characters are not allowed"),
        ({"stages-TOTAL_FORMS": "abc"}, "ManagementForm data is missing or has been tampered with"),
    ],
)
def test_a_bad_policy_is_refused_with_a_reason_and_nothing_changes(
    org: Org, changes: dict[str, Any], message: str
) -> None:
    policy = services.policy_in_force("low")
    response = signed_in(org.compliance).post("/workflows/policies/low/edit/", form_data(policy, **changes))
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert services.policy_in_force("low").pk == policy.pk


def test_an_unknown_tier_is_not_found(org: Org) -> None:
    assert signed_in(org.compliance).get("/workflows/policies/extreme/edit/").status_code == 404


def test_publishing_over_someone_elses_newer_version_is_refused(org: Org) -> None:
    policy = services.policy_in_force("low")
    client = signed_in(org.compliance)
    stale = form_data(policy, base_version=policy.version, grace_days=3)
    services.policy_publish(actor=org.administrator, tier="low", stages=policy.stages, review_period_days=700)
    response = client.post("/workflows/policies/low/edit/", stale)
    assert response.status_code == 400
    assert "Someone published version 2 meanwhile" in response.content.decode()
    assert services.policy_in_force("low").review_period_days == 700


def test_reading_the_policies_of_an_emptied_database_writes_nothing_and_a_review_saves_them(
    flow: Flow, token_for
) -> None:
    from django.test import Client

    from apps.workflows.policies import DEFAULT_POLICIES
    from tests.conftest import bearer

    ApprovalPolicy.objects.all().delete()
    page, api = signed_in(flow.compliance), Client(headers=bearer(token_for(flow.compliance)))
    events = AuditEvent.objects.count()  # after signing in and making a token, which are audited
    assert page.get("/workflows/policies/").status_code == 200
    assert page.get("/workflows/policies/high/edit/").status_code == 200
    listed = api.get("/api/v1/policies/")
    assert listed.status_code == 200
    assert [p["stages"] for p in listed.json()] == [DEFAULT_POLICIES[t]["stages"] for t in ("high", "medium", "low")]
    assert (ApprovalPolicy.objects.count(), AuditEvent.objects.count()) == (0, events)

    flow.submit()  # a low-tier project
    saved = ApprovalPolicy.objects.get()
    assert (saved.tier, saved.version, saved.is_current) == ("low", 1, True)
    assert flow.version.reviews.get().policy == saved
    assert AuditEvent.objects.filter(action="workflows.policy.created").count() == 1
