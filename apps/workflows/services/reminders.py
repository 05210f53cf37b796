"""The reminder schedule: re-certifications coming due, expired approvals, overdue findings."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.projects.choices import ProjectRole
from apps.projects.selectors import project_people
from apps.registry.choices import VersionStatus
from apps.registry.models import ModelVersion
from apps.workflows.choices import FindingStatus, ReviewKind, ReviewStatus
from apps.workflows.models import Finding, Review
from apps.workflows.selectors import approvals_coming_due
from apps.workflows.services._common import announce_waiting, finding_url, review_open, review_url


def workflow_reminders(*, now: datetime | None = None) -> dict[str, int]:
    """Open re-certifications that come due, remind before and after expiry, flag overdue findings.

    Idempotent (the beat runs it hourly): each reminder goes once per approval or finding.
    Side effects: re-certification reviews (``workflows.review.opened`` by the schedule) and notifications.
    """
    now = now or timezone.now()
    counts = {"recertifications_opened": 0, "due": 0, "expired": 0, "findings_overdue": 0}
    for approval in approvals_coming_due(Review.objects.select_related("version__model__project"), now):
        with transaction.atomic():
            version = ModelVersion.objects.select_for_update(of=("self",), no_key=True).get(pk=approval.version_id)
            latest = Review.objects.filter(version=version, status=ReviewStatus.APPROVED).order_by("-cycle").first()
            if (
                latest is None
                or latest.pk != approval.pk
                or version.status not in (VersionStatus.APPROVED, VersionStatus.DEPLOYED)
            ):
                continue
            project = approval.version.model.project
            label = f"{approval.version.model.name} v{approval.version.number}"
            recert = Review.objects.filter(version=version, status=ReviewStatus.OPEN).first()
            if recert is None:
                recert = review_open(approval.version, submitted_by=None, kind=ReviewKind.RECERTIFICATION)
                audit_record(
                    actor=None,
                    actor_name="schedule",
                    action=Action.REVIEW_OPENED,
                    target=recert,
                    project=project,
                    data={
                        "kind": ReviewKind.RECERTIFICATION,
                        "expires_at": approval.expires_at,
                        "stages": [s["key"] for s in recert.stages],
                    },
                )
                announce_waiting(recert, [s["key"] for s in recert.stages])
                counts["recertifications_opened"] += 1
            owners = project_people(project, ProjectRole.OWNER, ProjectRole.BUSINESS_OWNER)
            assert approval.expires_at is not None
            data = {"version": version.pk, "review": recert.pk, "expires_at": approval.expires_at.isoformat()}
            if approval.expires_at > now:
                counts["due"] += bool(
                    announce(
                        event=Event.RECERTIFICATION_DUE,
                        title=f"{label} needs re-certification by {approval.expires_at:%Y-%m-%d}",
                        body=f"Its approval expires on {approval.expires_at:%Y-%m-%d}. Review {recert.cycle} is open.",
                        recipients=owners,
                        url=review_url(recert),
                        project=project,
                        data=data,
                        dedupe_key=f"recert-due:{approval.pk}",
                    )
                )
            else:
                grace_end = approval.expires_at + timedelta(days=approval.grace_days)
                counts["expired"] += bool(
                    announce(
                        event=Event.RECERTIFICATION_OVERDUE,
                        title=f"The approval of {label} expired on {approval.expires_at:%Y-%m-%d}",
                        body=(
                            f"The deployment gate refuses it from {grace_end:%Y-%m-%d %H:%M} UTC until review "
                            f"{recert.cycle} re-certifies it."
                        ),
                        recipients=[*owners, *project_people(project, ProjectRole.IT_OPS)],
                        url=review_url(recert),
                        project=project,
                        data=data,
                        dedupe_key=f"recert-expired:{approval.pk}",
                    )
                )
    overdue = Finding.objects.filter(status=FindingStatus.OPEN, due_date__lt=now.date()).select_related(
        "model__project", "owner"
    )
    for finding in overdue:
        with transaction.atomic():
            counts["findings_overdue"] += bool(
                announce(
                    event=Event.FINDING_OVERDUE,
                    title=f"Overdue finding on {finding.model.name}: {finding.title}",
                    body=f"It was due on {finding.due_date:%Y-%m-%d}; remediate it or agree a new date.",
                    recipients=[finding.owner],
                    url=finding_url(finding),
                    project=finding.model.project,
                    data={"finding": finding.pk, "severity": finding.severity, "due_date": str(finding.due_date)},
                    dedupe_key=f"finding-overdue:{finding.pk}:{finding.due_date}",
                )
            )
    return counts
