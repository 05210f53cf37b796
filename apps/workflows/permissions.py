"""Who may sign which stage of a review: roles, teams, independence and segregation of duties."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from apps.accounts.permissions import awaits_own_password, is_administrator
from apps.projects import permissions as can
from apps.projects.choices import JUDGE_TEAMS, ProjectRole
from apps.registry.models import ModelCardRevision
from apps.workflows.choices import FindingStatus
from apps.workflows.models import Finding, Review


def _cycle_start(review: Review) -> Any:
    """When this review cycle began: the close of the previous review, or None for the first."""
    previous = Review.objects.filter(version=review.version, cycle__lt=review.cycle).order_by("-cycle").first()
    return previous.closed_at if previous is not None else None


def _edited_card_this_cycle(user: Any, review: Review, start: Any) -> bool:
    edits = ModelCardRevision.objects.filter(card__version=review.version, author=user)
    if start is not None:
        edits = edits.filter(created_at__gt=start)
    return edits.exists()


def _uploaded_evaluation_data_this_cycle(user: Any, review: Review, start: Any) -> bool:
    """Whether ``user`` uploaded a dataset version that a validation run of this version used, this cycle."""
    from django.db.models import Q

    from apps.validation.models import ValidationRun

    reference, current = Q(reference__created_by=user), Q(current__created_by=user)
    if start is not None:  # each dataset counts only if this person uploaded it during this cycle
        reference &= Q(reference__created_at__gt=start)
        current &= Q(current__created_at__gt=start)
    return ValidationRun.objects.filter(version=review.version).filter(reference | current).exists()


def _judge_reason(user: Any, project: Any, held: set[str]) -> str:
    """The first reason why ``user`` may not exercise any of the judging roles ``held`` (lower-case start)."""
    reasons = [can.judge_refusal(user, project, role) for role in sorted(held)]
    reason = next((r for r in reasons if r), "you may not judge this project.")
    return reason[0].lower() + reason[1:]


Rule = tuple[Callable[[], bool], str | Callable[[], str]]


def _first_reason(checks: list[Rule]) -> str | None:
    """The message of the first check that applies (checks run in order, lazily), or None."""
    message = next((message for applies, message in checks if applies()), None)
    return message() if callable(message) else message


def sign_off_refusal(user: Any, review: Review, stage: dict[str, Any], digest: str | None = None) -> str | None:
    """Return why ``user`` may not sign ``stage`` of ``review`` (a sentence for the person), or None.

    The checks run in order and stop at the first that applies; each is a rule of DESIGN.md section 4.
    ``digest`` is the version's evidence digest when the caller has it (each computation is two queries).
    """
    if not (user.is_authenticated and user.is_active):
        return "Sign in first."
    version = review.version
    start = functools.cache(lambda: _cycle_start(review))  # asked by several checks, looked up at most once

    def current_digest() -> str:
        from apps.workflows.evidence import evidence_digest

        return digest if digest is not None else evidence_digest(version)

    project = version.model.project
    roles = can.roles_in(user, project)
    allowed_roles, team = set(stage.get("project_roles") or []), stage.get("team")
    judges = functools.cache(lambda: bool(allowed_roles & can.judge_roles(user, project)))
    checks: list[Rule] = [
        (lambda: is_administrator(user), "Administrators manage Signet; they do not sign off models."),
        (
            lambda: awaits_own_password(user),
            "An administrator set up or changed your account; sign in and set your own password on your "
            "settings page before you sign off.",
        ),
        (
            lambda: user.admin_changed_at is not None and user.admin_changed_at > (start() or review.opened_at),
            "An administrator changed your account, password or teams during this review cycle; "
            "another person signs this one.",
        ),
        (lambda: user.pk == version.created_by_id, "You created this version."),
        (
            lambda: Review.objects.filter(version=version, submitted_by=user).exists(),
            "You submitted this version for review.",
        ),
        (
            lambda: _edited_card_this_cycle(user, review, start()),
            "You changed this version's model card in this review cycle.",
        ),
        (
            lambda: _uploaded_evaluation_data_this_cycle(user, review, start()),
            "You provided the evaluation data of this version in this review cycle.",
        ),
        (
            lambda: bool(allowed_roles) and not allowed_roles & roles,
            "This stage is signed by the project's "
            + " or ".join(sorted(r.replace("_", " ") + "s" for r in allowed_roles))
            + ".",
        ),
        (
            lambda: bool(team) and not user.teams.filter(function=team).exists(),
            f"This stage is signed by members of the {str(team).replace('_', ' ')} team.",
        ),
        (
            lambda: bool(stage.get("independent")) and bool(roles & {ProjectRole.DEVELOPER, ProjectRole.OWNER}),
            "Independent validation cannot be signed by the project's developers or owners.",
        ),
        (
            lambda: bool(stage.get("independent")) and can.ever_built(user, project),
            "Independent validation cannot be signed by someone who developed or owned this project.",
        ),
        (
            lambda: bool(allowed_roles) and allowed_roles <= set(JUDGE_TEAMS) and not judges(),
            lambda: "You hold this stage's role, but " + _judge_reason(user, project, allowed_roles & roles),
        ),
        (
            lambda: review.decisions.filter(decider=user, evidence_digest=current_digest()).exists(),
            "You have already decided on this review; one person fills one place.",
        ),
        (
            lambda: review.delegations.filter(from_user=user).exists(),
            "You delegated your decision on this review to someone else.",
        ),
    ]
    return _first_reason(checks)


def can_submit(user: Any, version: Any) -> bool:
    return can.can_build(user, version.model.project)


def can_edit_policies(user: Any) -> bool:
    """Administrators and the compliance team publish approval policies."""
    from apps.accounts.choices import TeamFunction

    return is_administrator(user) or (
        user.is_authenticated and user.is_active and user.teams.filter(function=TeamFunction.COMPLIANCE).exists()
    )


def can_retire(user: Any, project: Any) -> bool:
    """The project's owners and IT operations retire its versions."""
    return bool(can.roles_in(user, project) & {ProjectRole.OWNER, ProjectRole.IT_OPS})


def finding_judgement_refusal(user: Any, finding: Finding, fields: dict[str, Any]) -> str | None:
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
    project = finding.model.project
    judging = functools.cache(lambda: can.judge_roles(user, project))
    held = can.roles_in(user, project) & set(JUDGE_TEAMS)
    accepting = status == FindingStatus.ACCEPTED
    checks: list[Rule] = [
        (lambda: is_administrator(user), "Administrators manage Signet; they do not judge findings."),
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
            lambda: "You hold a judging role, but " + _judge_reason(user, project, set(held)),
        ),
        (lambda: status == FindingStatus.CLOSED and not judging(), "Validators and compliance close findings."),
        (lambda: not judging(), "Only validators and compliance change a finding's severity or type."),
    ]
    return _first_reason(checks)
