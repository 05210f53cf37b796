"""Reads of reviews, findings and deployments, restricted to what the user may see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from apps.projects.models import Project
from apps.workflows.choices import FindingStatus, ReviewStatus
from apps.workflows.evidence import evidence_digest
from apps.workflows.models import Deployment, Finding, Review
from apps.workflows.permissions import can_retire
from apps.workflows.stages import stage_for


def reviews_visible_to(user: Any) -> QuerySet[Review]:
    return Review.objects.filter(version__model__project__in=Project.objects.visible_to(user)).select_related(
        "version__model__project", "submitted_by"
    )


def reviews_waiting_for(user: Any) -> list[Review]:
    """Open reviews whose current stage this person may sign now."""
    from apps.accounts.permissions import is_administrator

    if not user.is_authenticated or is_administrator(user):
        return []  # administrators never sign
    waiting = []
    # Every stage is signed by project roles, so only reviews in the person's own projects can wait for them.
    mine = (
        reviews_visible_to(user)
        .filter(status=ReviewStatus.OPEN, version__model__project__memberships__user=user)
        .distinct()
    )
    for review in mine.prefetch_related("decisions"):
        stage, _refusal = stage_for(user, review, evidence_digest(review.version))
        if stage is not None:
            waiting.append(review)
    return waiting


def findings_visible_to(user: Any) -> QuerySet[Finding]:
    return Finding.objects.filter(model__project__in=Project.objects.visible_to(user)).select_related(
        "model__project", "version", "owner", "raised_by"
    )


def findings_owned_open(user: Any) -> QuerySet[Finding]:
    return findings_visible_to(user).filter(owner=user, status=FindingStatus.OPEN).order_by("due_date", "pk")


def deployments_visible_to(user: Any) -> QuerySet[Deployment]:
    return Deployment.objects.filter(version__model__project__in=Project.objects.visible_to(user)).select_related(
        "version__model", "deployed_by"
    )


def workflow_panel(*, user: Any, version: Any) -> dict[str, Any]:
    """What the version page shows of its reviews, findings and deployment gate."""
    from apps.projects import permissions as can
    from apps.projects.choices import ProjectRole
    from apps.registry.choices import VersionStatus
    from apps.workflows.gate import gate_check

    project = version.model.project
    gate = gate_check(version=version, environment="production")
    return {
        "reviews": Review.objects.filter(version=version)
        .select_related("submitted_by")
        .prefetch_related("decisions__decider"),
        "findings": Finding.objects.filter(version=version).select_related("owner", "raised_by"),
        "deployments": Deployment.objects.filter(version=version).select_related("deployed_by"),
        "can_submit": can.can_build(user, project)
        and version.status in (VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED),
        "gate": gate,
        "can_deploy": ProjectRole.IT_OPS in can.roles_in(user, project) and gate.allowed,
        "can_retire": can_retire(user, project)
        and version.status not in (VersionStatus.RETIRED, VersionStatus.IN_REVIEW),
    }


def approvals_coming_due(approvals: QuerySet[Review], now: datetime) -> list[Review]:
    """The approvals among ``approvals`` that the re-certification schedule acts on now, soonest first.

    The latest approval of each approved or deployed version, once it is within its reminder window
    before expiry — ``SIGNET_RECERT_REMIND_DAYS``, but never more than a third of its approval period,
    or a short period would come due right after approval — or past expiry. The schedule
    (``services.workflow_reminders``) and the home page both read this, so they agree.
    """
    from apps.registry.choices import VersionStatus

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


def recertifications_for(user: Any) -> list[Review]:
    """Approvals in the projects this person owns that the schedule treats as coming due, or expired."""
    from apps.projects.choices import ProjectRole

    if not user.is_authenticated:
        return []
    owned = Project.objects.filter(
        memberships__user=user, memberships__role__in=(ProjectRole.OWNER, ProjectRole.BUSINESS_OWNER)
    )
    return approvals_coming_due(reviews_visible_to(user).filter(version__model__project__in=owned), timezone.now())


def in_service(project: Any) -> list[Deployment]:
    """The latest deployment of each deployed version of the project, per environment."""
    from apps.registry.choices import VersionStatus

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
