"""One predicate per action of the approval workflows, used by the pages and the API alike."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from apps.accounts.choices import TeamFunction
from apps.accounts.models import User
from apps.accounts.permissions import awaits_own_password, is_administrator, team_functions
from apps.projects import permissions as can
from apps.projects.choices import JUDGE_TEAMS, ProjectRole
from apps.projects.models import Project
from apps.workflows import stages
from apps.workflows.choices import FindingStatus
from apps.workflows.models import Finding, Review
from apps.workflows.signers import facts_for, judge_reason

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


Rule = tuple[Callable[[], bool], str | Callable[[], str]]


def _first_reason(checks: list[Rule]) -> str | None:
    """The message of the first check that applies (checks run in order, lazily), or None."""
    message = next((message for applies, message in checks if applies()), None)
    return message() if callable(message) else message


def sign_off_refusal(
    user: User | AnonymousUser, review: Review, stage: dict[str, Any], digest: str | None = None
) -> str | None:
    """Return why ``user`` may not sign ``stage`` of ``review`` (a sentence for the person), or None.

    The rules are ``apps.workflows.stages.sign_off_refusal``, one per rule of DESIGN.md section 4; this
    gathers what they need. ``digest`` is the version's evidence digest when the caller has it.
    """
    return stages.sign_off_refusal(facts_for(user, review, digest), stage)


def can_deploy(user: User | AnonymousUser, project: Project) -> bool:
    """The project's IT operations record deployments."""
    return ProjectRole.IT_OPS in can.roles_in(user, project)


def can_edit_policies(user: User | AnonymousUser) -> bool:
    """Administrators and the compliance team publish approval policies."""
    return is_administrator(user) or (
        user.is_authenticated and user.is_active and TeamFunction.COMPLIANCE in team_functions(user)
    )


def can_retire(user: User | AnonymousUser, project: Project) -> bool:
    """The project's owners and IT operations retire its versions."""
    return bool(can.roles_in(user, project) & {ProjectRole.OWNER, ProjectRole.IT_OPS})


def finding_judgement_refusal(user: User | AnonymousUser, finding: Finding, fields: dict[str, Any]) -> str | None:
    """Return why ``user`` may not make the change ``fields`` to ``finding`` (a sentence), or None.

    Closing or accepting a finding, and changing its severity or type, are judgements: only a validator
    or compliance officer who may judge the project makes them (matching team, never built or owned it;
    DESIGN section 4), and never an account that awaits its owner's own password. Accepting a policy
    exception needs a compliance officer other than the one who raised it. Other changes (the owner's
    remediation) are not judgements and are not refused here.
    """
    status = fields.get("status")
    regraded = [name for name in ("severity", "kind") if name in fields and fields[name] != getattr(finding, name)]
    if status not in (FindingStatus.CLOSED, FindingStatus.ACCEPTED) and not regraded:
        return None
    if not isinstance(user, User):
        return "Sign in first."
    project = finding.model.project
    judging = functools.cache(lambda: can.judge_roles(user, project))
    held = can.roles_in(user, project) & set(JUDGE_TEAMS)
    accepting = status == FindingStatus.ACCEPTED
    checks: list[Rule] = [
        (lambda: is_administrator(user), "Administrators manage Signet; they do not judge findings."),
        (lambda: user.is_service_account, "A service account never judges findings: a person does."),
        (
            lambda: awaits_own_password(user),
            "An administrator set up or changed your account; set your own password before you judge findings.",
        ),
        (
            lambda: accepting and ProjectRole.COMPLIANCE not in judging(),
            "Accepting a finding as a policy exception needs an independent compliance officer of the project.",
        ),
        (
            lambda: accepting and finding.raised_by_id == user.pk,
            "You raised this policy exception; another compliance officer accepts it.",
        ),
        (
            lambda: bool(held) and not judging(),
            lambda: "You hold a judging role, but " + str(judge_reason(user, project, frozenset(held))),
        ),
        (lambda: status == FindingStatus.CLOSED and not judging(), "Validators and compliance close findings."),
        (lambda: not judging(), "Only validators and compliance change a finding's severity or type."),
    ]
    return _first_reason(checks)
