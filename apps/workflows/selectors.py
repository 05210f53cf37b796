"""Reads of reviews, findings and deployments, restricted to what the user may see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
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


WAITING_BATCH = 100  # open reviews judged at a time when only the first few waiting ones are wanted


def reviews_waiting_for(user: User | AnonymousUser, *, limit: int | None = None) -> list[Review]:
    """Open reviews whose current stage this person may sign now, newest first.

    Every one of them (``limit`` None, for ``?assigned=me``), or the first ``limit``: then the open
    reviews of the person's projects are judged ``WAITING_BATCH`` at a time, each batch in a fixed
    number of queries, until ``limit`` wait, so a home page with a few to show reads a few batches,
    not every open review of the organisation.
    """
    if not user.is_authenticated or is_administrator(user):
        return []  # administrators never sign
    # Every stage is signed by project roles, so only reviews in the person's own projects can wait for them.
    mine = Project.objects.filter(memberships__user=user).values("pk")
    candidates = (
        reviews_visible_to(user)
        .filter(status=ReviewStatus.OPEN, version__model__project__in=mine)
        .prefetch_related("decisions", "delegations")
        .order_by("-opened_at", "-pk")
    )
    if limit is None:
        return _waiting(user, list(candidates))
    waiting: list[Review] = []
    page = candidates
    while len(waiting) < limit:
        batch = list(page[:WAITING_BATCH])
        waiting += _waiting(user, batch)
        if len(batch) < WAITING_BATCH:
            break
        last = batch[-1]
        page = candidates.filter(Q(opened_at__lt=last.opened_at) | Q(opened_at=last.opened_at, pk__lt=last.pk))
    return waiting[:limit]


def _waiting(user: User | AnonymousUser, reviews: list[Review]) -> list[Review]:
    facts = sign_off_facts(user, reviews)
    return [review for review in reviews if stage_for(facts[review.pk])[0] is not None]


def findings_visible_to(user: User | AnonymousUser) -> QuerySet[Finding]:
    return Finding.objects.filter(model__project__in=Project.objects.visible_to(user)).select_related(
        "model__project", "version", "owner", "raised_by"
    )


def findings_owned_open(user: User) -> QuerySet[Finding]:
    """The open findings ``user`` owns, soonest due first (pages slice it: it can hold thousands)."""
    return findings_visible_to(user).filter(owner=user, status=FindingStatus.OPEN).order_by("due_date", "pk")


def deployments_visible_to(user: User | AnonymousUser) -> QuerySet[Deployment]:
    return Deployment.objects.filter(version__model__project__in=Project.objects.visible_to(user)).select_related(
        "version__model", "deployed_by"
    )


SHOWN_FINDINGS = 50  # findings a page lists (newest first) before it says how many there are in all
SHOWN_REVIEWS = 20
SHOWN_DEPLOYMENTS = 20


def version_findings(version: ModelVersion) -> dict[str, Any]:
    """The version's newest findings (at most ``SHOWN_FINDINGS``) and how many it has: the review page's list."""
    findings = Finding.objects.filter(version=version)
    return {
        "findings": list(findings.select_related("owner", "raised_by")[:SHOWN_FINDINGS]),
        "findings_count": findings.count(),
    }


def model_findings(*, user: User | AnonymousUser, model: Any) -> dict[str, Any]:
    """The model page's findings on the model as a whole (no version): the newest, and how many."""
    findings = findings_visible_to(user).filter(model=model, version=None)
    return {"findings": list(findings[:SHOWN_FINDINGS]), "findings_count": findings.count()}


def workflow_panel(*, user: User | AnonymousUser, version: ModelVersion) -> dict[str, Any]:
    """What the version page shows of its reviews, findings and deployment gate, and the moves it offers.

    The moves are those of the lifecycle table that ``user`` may make now (``moves``, and one
    ``can_<move>`` flag per move), so the page offers exactly what the services accept.
    """
    state = lifecycle.VersionState(version)
    moves = lifecycle.moves_for(user, version, state)
    findings = Finding.objects.filter(version=version)
    deployments = Deployment.objects.filter(version=version)
    return {
        # A version re-certified for years, deployed by a pipeline on every release: bounded lists,
        # the newest first, with their counts.
        "reviews": Review.objects.filter(version=version)
        .select_related("submitted_by")
        .prefetch_related("decisions__decider")[:SHOWN_REVIEWS],
        "findings": findings.select_related("owner", "raised_by")[:SHOWN_FINDINGS],
        "findings_count": findings.count(),
        "deployments": deployments.select_related("deployed_by")[:SHOWN_DEPLOYMENTS],
        "deployments_count": deployments.count(),
        "gate": state.gate,
        "moves": moves,
        "submission_wants": lifecycle.evidence_wanting(user, version, state),
        **{f"can_{name}": name in moves for name in lifecycle.MOVES},
    }


def approvals_coming_due(approvals: QuerySet[Review], now: datetime, *, limit: int | None = None) -> list[Review]:
    """The approvals among ``approvals`` that the re-certification schedule acts on now, soonest first.

    The latest approval of each approved or deployed version, once it is within its reminder window
    before expiry — ``SIGNET_RECERT_REMIND_DAYS``, but never more than a third of its approval period,
    or a short period would come due right after approval — or past expiry. The schedule
    (``services.workflow_reminders``) and the home page both read this, so they agree; the home page
    asks for the first ``limit`` only, and the rows are then read in chunks until it has them.
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
    if limit is None:
        return [a for a in candidates if a.expires_at is not None and a.expires_at <= now + _reminder_window(a)]
    due: list[Review] = []
    for approval in candidates.iterator(chunk_size=max(limit, 20)):
        if approval.expires_at is not None and approval.expires_at <= now + _reminder_window(approval):
            due.append(approval)
            if len(due) >= limit:
                break
    return due


def _reminder_window(approval: Review) -> timedelta:
    return min(timedelta(days=settings.SIGNET_RECERT_REMIND_DAYS), timedelta(days=approval.review_period_days) / 3)


def recertifications_for(user: User | AnonymousUser, *, limit: int | None = None) -> list[Review]:
    """Approvals in the projects this person owns that the schedule treats as coming due, or expired.

    The first ``limit`` of them (soonest expiry first) when it is given.
    """
    if not user.is_authenticated:
        return []
    owned = Project.objects.filter(
        memberships__user=user, memberships__role__in=(ProjectRole.OWNER, ProjectRole.BUSINESS_OWNER)
    )
    approvals = reviews_visible_to(user).filter(version__model__project__in=owned)
    return approvals_coming_due(approvals, timezone.now(), limit=limit)


IN_SERVICE_SHOWN = 20  # the project page lists this many; a project's deployment history grows without end


def in_service(project: Project, *, limit: int = IN_SERVICE_SHOWN) -> list[Deployment]:
    """The latest deployment of each deployed version of the project, per environment, newest first.

    At most ``limit`` of them, in one query: a deployment is the latest of its version and environment
    when none is newer (NOT EXISTS on the index ``deployment_version_env_latest``), so the history of
    earlier deployments is never read.
    """
    newer = Deployment.objects.filter(version=OuterRef("version"), environment=OuterRef("environment")).filter(
        Q(deployed_at__gt=OuterRef("deployed_at")) | Q(deployed_at=OuterRef("deployed_at"), pk__gt=OuterRef("pk"))
    )
    deployments = (
        Deployment.objects.filter(version__model__project=project, version__status=VersionStatus.DEPLOYED)
        .exclude(Exists(newer))
        .select_related("version__model", "deployed_by")
        .order_by("-deployed_at", "-pk")
    )
    return list(deployments[:limit])
