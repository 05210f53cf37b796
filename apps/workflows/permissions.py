"""Who may sign which stage of a review: roles, teams, independence and segregation of duties."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from apps.accounts.permissions import is_administrator
from apps.audit.models import AuditEvent
from apps.projects import permissions as can
from apps.projects.choices import ProjectRole
from apps.registry.models import ModelCardRevision, ModelVersion
from apps.workflows.models import Review


def _ever_built(user: Any, review: Review) -> bool:
    """Whether ``user`` ever developed or owned the project, or created a version of the model.

    Current roles are not enough: someone taken off the team and added back as a validator is not
    independent. The audit trail keeps every role ever given.
    """
    version = review.version
    project = version.model.project
    if ModelVersion.objects.filter(model_id=version.model_id, created_by=user).exists():
        return True
    return AuditEvent.objects.filter(
        project_pk=project.pk,
        action="projects.membership.added",
        data__user=user.get_username(),
        data__role__in=[ProjectRole.DEVELOPER, ProjectRole.OWNER],
    ).exists()


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


def sign_off_refusal(user: Any, review: Review, stage: dict[str, Any], digest: str | None = None) -> str | None:
    """Return why ``user`` may not sign ``stage`` of ``review`` (a sentence for the person), or None.

    The checks run in order and stop at the first that applies; each is a rule of DESIGN.md section 4.
    ``digest`` is the version's evidence digest when the caller has it (each computation is two queries).
    """
    if not (user.is_authenticated and user.is_active):
        return "Sign in first."
    version = review.version
    start = functools.cache(lambda: _cycle_start(review))  # asked by two checks, looked up at most once

    def current_digest() -> str:
        from apps.workflows.services import evidence_digest

        return digest if digest is not None else evidence_digest(version)

    roles = can.roles_in(user, version.model.project)
    allowed_roles, team = set(stage.get("project_roles") or []), stage.get("team")
    checks: list[tuple[Callable[[], bool], str]] = [
        (lambda: is_administrator(user), "Administrators manage Signet; they do not sign off models."),
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
            lambda: bool(stage.get("independent")) and _ever_built(user, review),
            "Independent validation cannot be signed by someone who developed or owned this project.",
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
    return next((message for applies, message in checks if applies()), None)


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
