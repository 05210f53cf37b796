"""A service account is never a pair of eyes: it signs no stage, holds no judging role, judges no finding.

The matrix gives a pipeline's account each project role a stage may be signed by, in a policy whose
only stage is signed by that role, and checks that the service account is refused where the person
next to it (same role, same team) may sign.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts import services as accounts
from apps.accounts.models import User
from apps.projects import services as projects
from apps.workflows import services
from apps.workflows.stages import SERVICE_ACCOUNT_REFUSAL
from tests.factories import TeamFunction, team_for
from tests.workflows.conftest import Flow

pytestmark = pytest.mark.django_db

SIGNING_ROLES = {  # a stage's role -> the team its signer needs in that stage, and the person who holds it
    "it_ops": (TeamFunction.IT_OPS, "it_ops"),
    "business_owner": (TeamFunction.BUSINESS, "business_owner"),
}
JUDGING_ROLES = {"validator": TeamFunction.RISK_VALIDATION, "compliance": TeamFunction.COMPLIANCE}


def _bot(flow: Flow, team: str) -> User:
    return accounts.user_create(
        actor=flow.administrator, username=f"bot-{team}", is_service_account=True, teams=[team_for(team)]
    )


def _only_stage(flow: Flow, role: str, team: str) -> None:
    current = services.policy_in_force("low")
    stage = {"key": "only", "name": "Only stage", "project_roles": [role], "team": team, "quorum": 1}
    services.policy_publish(
        actor=flow.compliance, tier="low", stages=[stage], review_period_days=current.review_period_days
    )


@pytest.mark.parametrize("role", sorted(SIGNING_ROLES))
def test_a_service_account_holding_a_signing_role_never_signs_the_stage(flow: Flow, role: str) -> None:
    team, person = SIGNING_ROLES[role]
    _only_stage(flow, role, team)
    bot = _bot(flow, team)
    projects.membership_add(actor=flow.owner, project=flow.project, user=bot, role=role)
    review = flow.submit()
    stage = review.stages[0]
    assert services.sign_off_refusal(bot, review, stage) == SERVICE_ACCOUNT_REFUSAL
    digest = services.evidence_digest(flow.version)
    with pytest.raises(PermissionDenied, match="service account"):
        services.review_decide(actor=bot, review=review, kind="approve", evidence_digest_seen=digest)
    assert not review.decisions.exists()
    # The person in the same role and team may: the refusal is the account's kind, nothing else.
    assert services.sign_off_refusal(flow.persona(person), review, stage) is None
    # Nor can a reviewer hand their decision to it.
    with pytest.raises(ValidationError, match="cannot sign this stage: A service account"):
        services.review_delegate(actor=flow.persona(person), review=review, to_user=bot, reason="Busy.")


@pytest.mark.parametrize("role", sorted(JUDGING_ROLES))
def test_a_service_account_is_never_given_a_judging_role(flow: Flow, role: str) -> None:
    bot = _bot(flow, JUDGING_ROLES[role])
    with pytest.raises(ValidationError, match="never holds a judging role"):
        projects.membership_add(actor=flow.owner, project=flow.project, user=bot, role=role)
    assert not bot.memberships.exists()


def test_a_service_account_never_judges_a_finding(flow: Flow) -> None:
    bot = _bot(flow, TeamFunction.IT_OPS)
    projects.membership_add(actor=flow.owner, project=flow.project, user=bot, role="it_ops")
    finding = services.finding_raise(
        actor=flow.validator, model=flow.model, version=flow.version, owner=bot,
        kind="validation_issue", severity="high", title="Drift on income",
    )  # fmt: skip
    with pytest.raises(PermissionDenied, match="service account never judges findings"):
        services.finding_update(actor=bot, finding=finding, status="closed", reason="Looks fine.")
    finding.refresh_from_db()
    assert finding.status == "open"
