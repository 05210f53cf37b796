"""Four-eyes holes an adversarial test found: judging roles, findings, break-glass, insider accounts."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from apps.accounts import services as accounts
from apps.audit.models import AuditEvent
from apps.projects import services as projects
from apps.projects.models import Membership
from apps.workflows import services
from apps.workflows.models import ApprovalPolicy, Finding
from apps.workflows.policies import DEFAULT_POLICIES
from tests.conftest import bearer, signed_in
from tests.factories import PASSWORD, TeamFunction, make_user, team_for
from tests.workflows.conftest import Flow

pytestmark = pytest.mark.django_db


def _critical_finding(flow: Flow) -> Finding:
    return services.finding_raise(
        actor=flow.validator, model=flow.model, version=flow.version, owner=flow.developer,
        kind="validation_issue", severity="critical", title="Scores leak the outcome",
    )  # fmt: skip


# --- judging roles are held only by the matching team, never by a builder ---------------------


@pytest.mark.parametrize(
    ("who", "role", "reason"),
    [
        ("developer", "validator", "held only by members of the risk validation team"),
        ("developer", "compliance", "held only by members of the compliance team"),
        ("business_owner", "validator", "held only by members of the risk validation team"),
        ("it_ops", "compliance", "held only by members of the compliance team"),
        ("it_ops", "validator", "held only by members of the risk validation team"),
    ],
)
def test_an_owner_cannot_give_a_judging_role_outside_the_matching_team(
    flow: Flow, who: str, role: str, reason: str, token_for
) -> None:
    person = flow.persona(who)
    with pytest.raises(ValidationError, match=reason):
        projects.membership_add(actor=flow.owner, project=flow.project, user=person, role=role)
    api = Client(headers=bearer(token_for(flow.owner))).post(
        f"/api/v1/projects/{flow.project.slug}/members/",
        {"username": person.username, "role": role},
        content_type="application/json",
    )
    assert api.status_code == 400, api.content
    assert reason in str(api.json()["error"])
    page = signed_in(flow.owner).post(
        f"/projects/{flow.project.slug}/team/", {"username": person.username, "role": role}
    )
    assert page.status_code == 400
    assert reason in page.content.decode()
    assert not Membership.objects.filter(project=flow.project, user=person, role=role).exists()


def test_a_builder_in_the_judging_team_cannot_be_given_a_judging_role(flow: Flow) -> None:
    flow.developer.teams.add(team_for(TeamFunction.RISK_VALIDATION), team_for(TeamFunction.COMPLIANCE))
    for role in ("validator", "compliance"):
        with pytest.raises(ValidationError, match="builds or owns this project"):
            projects.membership_add(actor=flow.owner, project=flow.project, user=flow.developer, role=role)
    assert not Membership.objects.filter(user=flow.developer, role__in=["validator", "compliance"]).exists()


def test_a_judge_cannot_be_made_a_builder_of_the_project_they_judge(flow: Flow) -> None:
    for role in ("developer", "owner"):
        with pytest.raises(ValidationError, match="judges this project as validator"):
            projects.membership_add(actor=flow.owner, project=flow.project, user=flow.validator, role=role)
    with pytest.raises(ValidationError, match="judges this project as compliance"):
        projects.membership_add(actor=flow.owner, project=flow.project, user=flow.compliance, role="developer")


def test_a_judge_who_leaves_the_matching_team_can_no_longer_close_findings(flow: Flow) -> None:
    finding = _critical_finding(flow)
    flow.validator.teams.clear()
    with pytest.raises(PermissionDenied, match="held only by members of the risk validation team"):
        services.finding_update(actor=flow.validator, finding=finding, status="closed", reason="Fine.")
    assert Finding.objects.get(pk=finding.pk).status == "open"


# --- findings: closing, downgrading and accepting follow the independence rules ---------------


@pytest.mark.parametrize(
    "change",
    [{"severity": "low"}, {"status": "closed"}, {"severity": "low", "status": "closed"}],
    ids=["downgrade", "close", "downgrade-and-close"],
)
def test_a_developer_holding_the_validator_role_cannot_judge_the_findings_on_their_model(
    flow: Flow, change: dict[str, Any], token_for
) -> None:
    finding = _critical_finding(flow)
    # The hole: the developer also holds the validator role (granted before the rule, or by hand).
    flow.developer.teams.add(team_for(TeamFunction.RISK_VALIDATION))
    Membership.objects.create(project=flow.project, user=flow.developer, role="validator")
    with pytest.raises(PermissionDenied, match="builds or owns this project"):
        services.finding_update(actor=flow.developer, finding=finding, reason="Not that bad.", **change)
    api = Client(headers=bearer(token_for(flow.developer))).patch(
        f"/api/v1/findings/{finding.pk}/", {**change, "reason": "Not that bad."}, content_type="application/json"
    )
    assert api.status_code == 403, api.content
    assert "builds or owns this project" in api.json()["error"]["message"]
    finding.refresh_from_db()
    assert (finding.severity, finding.status) == ("critical", "open")
    assert not AuditEvent.objects.filter(action="workflows.finding.updated").exists()
    # The real validator may; the finding's owner may still remediate.
    services.finding_update(actor=flow.developer, finding=finding, status="remediated", remediation="Retrained.")
    services.finding_update(actor=flow.validator, finding=finding, reason="Checked the retrained model.", **change)
    finding.refresh_from_db()
    assert finding.severity == change.get("severity", "critical")
    assert finding.status == change.get("status", "remediated")


def test_raising_a_findings_severity_also_needs_a_judge_but_unchanged_values_are_not_judgements(flow: Flow) -> None:
    finding = services.finding_raise(
        actor=flow.validator, model=flow.model, version=flow.version, owner=flow.developer,
        kind="validation_issue", severity="low", title="Small calibration gap",
    )  # fmt: skip
    with pytest.raises(PermissionDenied, match="severity or type"):
        services.finding_update(actor=flow.developer, finding=finding, severity="high")
    # A form sends every field back; the severity it already has is no change.
    services.finding_update(actor=flow.developer, finding=finding, severity="low", remediation="Recalibrated.")
    assert Finding.objects.get(pk=finding.pk).remediation == "Recalibrated."


def test_one_compliance_officer_cannot_raise_and_accept_a_policy_exception_alone(flow: Flow, token_for) -> None:
    exception = services.finding_raise(
        actor=flow.compliance, model=flow.model, version=flow.version, owner=flow.owner,
        kind="policy_exception", severity="high", title="Deploy before the fairness review",
    )  # fmt: skip
    api = Client(headers=bearer(token_for(flow.compliance))).patch(
        f"/api/v1/findings/{exception.pk}/",
        {"status": "accepted", "reason": "I say so."},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert api.json()["error"]["message"] == "You raised this policy exception; another compliance officer accepts it."
    assert Finding.objects.get(pk=exception.pk).status == "open"
    second = make_user("cleo", TeamFunction.COMPLIANCE)
    projects.membership_add(actor=flow.owner, project=flow.project, user=second, role="compliance")
    services.finding_update(actor=second, finding=exception, status="accepted", reason="Board decision 2026-14.")
    event = AuditEvent.objects.filter(action="workflows.finding.updated").latest("seq")
    assert (event.actor_name, event.changes["status"]["after"]) == ("cleo", "accepted")


# --- one insider never makes a second pair of eyes ---------------------------------------------


def _sign_off_refusal(flow: Flow, person) -> str | None:
    review = flow.submit()
    stage = review.stages[0]
    return services.sign_off_refusal(person, review, stage)


def test_an_account_an_administrator_created_cannot_sign_off_until_its_owner_sets_a_password(flow: Flow) -> None:
    insider = accounts.user_create(
        actor=flow.administrator,
        username="sock",
        password="set-by-the-admin-1",
        teams=[team_for(TeamFunction.RISK_VALIDATION)],
    )
    projects.membership_add(actor=flow.owner, project=flow.project, user=insider, role="validator")
    review = flow.submit()
    digest = services.evidence_digest(flow.version)
    with pytest.raises(PermissionDenied, match="set your own password"):
        services.review_decide(actor=insider, review=review, kind="approve", evidence_digest_seen=digest)
    finding = _critical_finding(flow)
    with pytest.raises(PermissionDenied, match="set your own password"):
        services.finding_update(actor=insider, finding=finding, status="closed", reason="Fine.")
    services.finding_update(actor=flow.validator, finding=finding, status="closed", reason="Fixed upstream.")
    # The owner signs in with what the administrator gave them and sets a password of their own.
    client = Client()
    assert client.post("/accounts/sign-in/", {"username": "sock", "password": "set-by-the-admin-1"}).status_code == 302
    page = client.post(
        "/accounts/settings/password/",
        {
            "old_password": "set-by-the-admin-1",
            "new_password1": "only-i-know-this-9",
            "new_password2": "only-i-know-this-9",
        },
    )
    assert page.status_code == 302, page.content
    insider.refresh_from_db()
    services.review_decide(actor=insider, review=review, kind="approve", evidence_digest_seen=digest)
    assert review.decisions.filter(decider=insider).exists()


@pytest.mark.parametrize("change", ["password", "teams", "reactivated", "email"])
def test_an_administrators_change_to_an_account_blocks_its_sign_off_for_the_review_cycle(
    flow: Flow, change: str
) -> None:
    review = flow.submit()
    validator = flow.validator
    if change == "password":
        accounts.user_set_password(actor=flow.administrator, user=validator, password="admin-knows-it-1")
    elif change == "teams":
        accounts.user_update(
            actor=flow.administrator, user=validator, teams=[*validator.teams.all(), team_for(TeamFunction.BUSINESS)]
        )
    elif change == "reactivated":
        accounts.user_update(actor=flow.administrator, user=validator, is_active=False)
        accounts.user_update(actor=flow.administrator, user=validator, is_active=True)
    else:
        accounts.user_update(actor=flow.administrator, user=validator, email="somewhere@else.test")
    validator.refresh_from_db()
    stage = review.stages[0]
    assert "set your own password" in (services.sign_off_refusal(validator, review, stage) or "")
    # Setting their own password is not enough in this cycle: the change happened while it was open.
    accounts.user_set_password(actor=validator, user=validator, password="only-i-know-this-9")
    validator.refresh_from_db()
    assert services.sign_off_refusal(validator, review, stage) == (
        "An administrator changed your account, password or teams during this review cycle; "
        "another person signs this one."
    )
    assert services.sign_off_refusal(flow.validator2, review, stage) is None


def test_a_change_of_name_by_an_administrator_does_not_block_sign_off(flow: Flow) -> None:
    review = flow.submit()
    accounts.user_update(actor=flow.administrator, user=flow.validator, first_name="Vera", last_name="Lind")
    flow.validator.refresh_from_db()
    assert services.sign_off_refusal(flow.validator, review, review.stages[0]) is None


def test_the_portfolio_shows_accounts_waiting_for_their_owner_to_those_who_oversee(flow: Flow, token_for) -> None:
    make_user("quiet", TeamFunction.RISK_VALIDATION)  # created by the system (an operator), not an administrator
    accounts.user_create(actor=flow.administrator, username="sock", password="set-by-the-admin-1")
    second_line = make_user("lina", TeamFunction.RISK_VALIDATION)
    for person in (flow.auditor, flow.administrator, flow.compliance, second_line):
        page = signed_in(person).get("/portfolio/")
        assert page.status_code == 200
        assert "sock" in page.content.decode()
        assert "quiet" not in page.content.decode()
        api = Client(headers=bearer(token_for(person))).get("/api/v1/portfolio/")
        assert api.status_code == 200
        assert [a["username"] for a in api.json()["accounts_awaiting_owner"]] == ["sock"]
    for person in (flow.developer, flow.outsider, flow.business_owner):
        assert signed_in(person).get("/portfolio/").status_code == 403
        assert Client(headers=bearer(token_for(person))).get("/api/v1/portfolio/").status_code == 403
    by_the_system = accounts.user_set_password(actor=None, user=make_user("x"), password=PASSWORD)
    assert by_the_system.admin_changed_at is None  # an operator's command on the host marks nothing
    owner = type(flow.owner).objects.get(username="sock")
    accounts.user_set_password(actor=owner, user=owner, password="only-i-know-this-9")
    assert (
        Client(headers=bearer(token_for(flow.auditor))).get("/api/v1/portfolio/").json()["accounts_awaiting_owner"]
        == []
    )


# --- default IT-readiness and compliance stages need the matching team -------------------------


def test_the_default_it_and_compliance_stages_need_the_matching_team(high_flow: Flow) -> None:
    flow = high_flow
    review = flow.submit()
    stages = {stage["key"]: stage for stage in review.stages}
    assert (stages["it_readiness"]["team"], stages["compliance"]["team"]) == ("it_ops", "compliance")
    flow.decide(flow.business_owner, review)
    flow.decide(flow.validator, review)
    flow.decide(flow.validator2, review)
    # An IT-ops role given to someone outside the IT team does not make IT readiness.
    stand_in = make_user("stan", TeamFunction.BUSINESS)
    projects.membership_add(actor=flow.owner, project=flow.project, user=stand_in, role="it_ops")
    with pytest.raises(PermissionDenied, match="members of the it ops team"):
        flow.decide(stand_in, review)
    flow.decide(flow.it_ops, review)
    # A compliance role held from before the rule by someone outside the compliance team does not sign.
    Membership.objects.create(project=flow.project, user=stand_in, role="compliance")
    with pytest.raises(PermissionDenied, match="members of the compliance team"):
        flow.decide(stand_in, review)
    # Nor does a compliance officer who once built the project.
    builder = make_user("bea", TeamFunction.COMPLIANCE)
    projects.membership_add(actor=flow.owner, project=flow.project, user=builder, role="developer")
    Membership.objects.create(project=flow.project, user=builder, role="compliance")
    with pytest.raises(PermissionDenied, match="builds or owns this project"):
        flow.decide(builder, review)
    flow.decide(flow.compliance, review)
    review.refresh_from_db()
    assert review.status == "approved"


def test_the_migration_gives_old_default_stages_their_team_in_a_new_audited_policy_version(flow: Flow) -> None:
    from importlib import import_module

    migration = import_module("apps.workflows.migrations.0008_default_stages_need_their_team")
    compliance = make_user("carl", TeamFunction.COMPLIANCE)
    old = [{**stage} for stage in DEFAULT_POLICIES["high"]["stages"]]
    for stage in old:
        if stage["key"] in ("it_readiness", "compliance"):
            del stage["team"]
    before = services.policy_publish(actor=compliance, tier="high", stages=old, review_period_days=365)
    migration.add_teams(django_apps, None)
    current = ApprovalPolicy.objects.get(tier="high", is_current=True)
    assert current.version == before.version + 1
    assert current.stages == DEFAULT_POLICIES["high"]["stages"]
    event = AuditEvent.objects.filter(action="workflows.policy.published").latest("seq")
    assert (event.actor_name, event.data["version"]) == ("migration", current.version)
    migration.add_teams(django_apps, None)  # nothing more to do
    assert ApprovalPolicy.objects.get(tier="high", is_current=True).version == current.version
