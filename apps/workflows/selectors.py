"""Reads of reviews, findings and deployments, restricted to what the user may see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from apps.accounts.permissions import is_administrator
from apps.projects.choices import ProjectRole
from apps.projects.models import Project
from apps.registry.choices import VersionStatus
from apps.registry.models import ModelVersion
from apps.workflows import lifecycle
from apps.workflows.choices import FindingStatus, ReviewStatus
from apps.workflows.models import Deployment, Finding, Review
from apps.workflows.signers import sign_off_facts
from apps.workflows.stages import stage_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from apps.accounts.models import User


def reviews_visible_to(user: User | AnonymousUser) -> QuerySet[Review]:
    return Review.objects.filter(version__model__project__in=Project.objects.visible_to(user)).select_related(
        "version__model__project", "submitted_by"
    )


def reviews_waiting_for(user: User | AnonymousUser) -> list[Review]:
    """Open reviews whose current stage this person may sign now, in a fixed number of queries."""
    if not user.is_authenticated or is_administrator(user):
        return []  # administrators never sign
    # Every stage is signed by project roles, so only reviews in the person's own projects can wait for them.
    mine = list(
        reviews_visible_to(user)
        .filter(status=ReviewStatus.OPEN, version__model__project__memberships__user=user)
        .distinct()
        .prefetch_related("decisions", "delegations")
    )
    facts = sign_off_facts(user, mine)
    return [review for review in mine if stage_for(facts[review.pk])[0] is not None]


def findings_visible_to(user: User | AnonymousUser) -> QuerySet[Finding]:
    return Finding.objects.filter(model__project__in=Project.objects.visible_to(user)).select_related(
        "model__project", "version", "owner", "raised_by"
    )


def findings_owned_open(user: User) -> QuerySet[Finding]:
    return findings_visible_to(user).filter(owner=user, status=FindingStatus.OPEN).order_by("due_date", "pk")


def deployments_visible_to(user: User | AnonymousUser) -> QuerySet[Deployment]:
    return Deployment.objects.filter(version__model__project__in=Project.objects.visible_to(user)).select_related(
        "version__model", "deployed_by"
    )


def workflow_panel(*, user: User | AnonymousUser, version: ModelVersion) -> dict[str, Any]:
    """What the version page shows of its reviews, findings and deployment gate, and the moves it offers.

    The moves are those of the lifecycle table that ``user`` may make now (``moves``, and one
    ``can_<move>`` flag per move), so the page offers exactly what the services accept.
    """
    state = lifecycle.VersionState(version)
    moves = lifecycle.moves_for(user, version, state)
    return {
        "reviews": Review.objects.filter(version=version)
        .select_related("submitted_by")
        .prefetch_related("decisions__decider"),
        "findings": Finding.objects.filter(version=version).select_related("owner", "raised_by"),
        "deployments": Deployment.objects.filter(version=version).select_related("deployed_by"),
        "gate": state.gate,
        "moves": moves,
        "submission_wants": lifecycle.evidence_wanting(user, version, state),
        **{f"can_{name}": name in moves for name in lifecycle.MOVES},
    }


def approvals_coming_due(approvals: QuerySet[Review], now: datetime) -> list[Review]:
    """The approvals among ``approvals`` that the re-certification schedule acts on now, soonest first.

    The latest approval of each approved or deployed version, once it is within its reminder window
    before expiry — ``SIGNET_RECERT_REMIND_DAYS``, but never more than a third of its approval period,
    or a short period would come due right after approval — or past expiry. The schedule
    (``services.workflow_reminders``) and the home page both read this, so they agree.
    """
    renewed = Review.objects.filter(
        version=OuterRef("version"), status=ReviewStatus.APPROVED, cycle__gt=OuterRef("cycle")
    )
    horizon = now + timedelta(days=settings.SIGNET_RECERT_REMIND_DAYS)
    candidates = (
        approvals.filter(
            status=ReviewStatus.APPROVED,
            expires_at__lte=horizon,
            version__status__in=(VersionStatus.APPROVED, VersionStatus.DEPLOYED),
        )
        .exclude(Exists(renewed))
        .order_by("expires_at", "pk")
    )
    return [a for a in candidates if a.expires_at is not None and a.expires_at <= now + _reminder_window(a)]


def _reminder_window(approval: Review) -> timedelta:
    return min(timedelta(days=settings.SIGNET_RECERT_REMIND_DAYS), timedelta(days=approval.review_period_days) / 3)


def recertifications_for(user: User | AnonymousUser) -> list[Review]:
    """Approvals in the projects this person owns that the schedule treats as coming due, or expired."""
    if not user.is_authenticated:
        return []
    owned = Project.objects.filter(
        memberships__user=user, memberships__role__in=(ProjectRole.OWNER, ProjectRole.BUSINESS_OWNER)
    )
    return approvals_coming_due(reviews_visible_to(user).filter(version__model__project__in=owned), timezone.now())


def in_service(project: Project) -> list[Deployment]:
    """The latest deployment of each deployed version of the project, per environment."""
    deployments = (
        Deployment.objects.filter(version__model__project=project, version__status=VersionStatus.DEPLOYED)
        .select_related("version__model", "deployed_by")
        .order_by("-deployed_at", "-pk")
    )
    seen: set[tuple[int, str]] = set()
    latest = []
    for deployment in deployments:
        key = (deployment.version_id, deployment.environment)
        if key not in seen:
            seen.add(key)
            latest.append(deployment)
    return latest
