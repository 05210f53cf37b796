"""Helpers the workflow services share: links, the waiting announcement, opening a cycle, moves."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from apps.accounts.models import User
from apps.audit.services import audit_record, changes_between
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.registry.models import ModelVersion
from apps.workflows.choices import ReviewKind
from apps.workflows.evidence import evidence_digest
from apps.workflows.models import Finding, Review
from apps.workflows.services.policies import policy_saved
from apps.workflows.signers import eligible_signers
from apps.workflows.stages import open_stages


def review_url(review: Review) -> str:
    return reverse("workflows:review_detail", kwargs={"review_id": review.pk})


def finding_url(finding: Finding) -> str:
    if finding.version_id is not None:
        return reverse("registry:version_detail", kwargs={"version_id": finding.version_id}) + f"#finding-{finding.pk}"
    return reverse("registry:model_detail", kwargs={"model_id": finding.model_id}) + f"#finding-{finding.pk}"


def announce_waiting(review: Review, stage_keys: list[str]) -> None:
    """Tell whoever may sign the newly opened stages that the review waits for them."""
    version = review.version
    label = f"{version.model.name} v{version.number}"
    digest = evidence_digest(version)
    for stage in open_stages(review.stages, review.decisions.all(), digest):
        if stage["key"] not in stage_keys:
            continue
        what = "re-certification" if review.kind == ReviewKind.RECERTIFICATION else "review"
        announce(
            event=Event.REVIEW_WAITING,
            title=f"{label} waits for your {stage['name'].lower()} ({what} {review.cycle})",
            body=f"The {what} of {label} in {version.model.project.name} waits for a decision you may take.",
            recipients=eligible_signers(review, stage, digest),
            url=review_url(review),
            project=version.model.project,
            data={"review": review.pk, "version": version.pk, "stage": stage["key"], "kind": review.kind},
        )


def review_open(version: ModelVersion, *, submitted_by: User | None, kind: str) -> Review:
    """Open the next review cycle of ``version`` with a snapshot of its tier's policy in force."""
    policy = policy_saved(version.model.project.risk_tier)
    return Review.objects.create(
        version=version,
        cycle=Review.objects.filter(version=version).count() + 1,
        policy=policy,
        stages=policy.stages,
        review_period_days=policy.review_period_days,
        grace_days=policy.grace_days,
        environments=list(policy.environments or []),
        kind=kind,
        submitted_by=submitted_by,
    )


def version_move(actor: User, version: ModelVersion, status: str, action: str, data: dict[str, Any]) -> None:
    """Set a locked version's status and write the audit event of the move, in the caller's transaction."""
    before = version.status
    version.status = status
    version.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=action,
        target=version,
        project=version.model.project,
        changes=changes_between({"status": before}, {"status": status}),
        data=data,
    )
