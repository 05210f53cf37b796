"""Deciding on a review: approve, reject, request changes; closing it when decided."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between
from apps.core.permissions import require
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.projects import permissions as can
from apps.projects.choices import ProjectRole
from apps.projects.selectors import project_people
from apps.registry.models import ModelVersion
from apps.workflows import lifecycle
from apps.workflows.choices import DecisionKind, ReviewStatus
from apps.workflows.evidence import evidence_digest
from apps.workflows.gate import blocking_findings
from apps.workflows.models import Decision, Review
from apps.workflows.services._common import announce_waiting, review_url
from apps.workflows.signers import facts_for
from apps.workflows.stages import active_stage, open_stages, stage_for


def review_decide(*, actor: User, review: Review, kind: str, comment: str = "", evidence_digest_seen: str) -> Decision:
    """Record a decision on the review's current stage.

    Approve counts toward the stage's quorum; reject rejects the review and the version;
    request_changes sends the version back. Refused, with a reason the person can read, to anyone
    segregation of duties excludes. Side effects: ``workflows.decision.recorded`` and, when the
    review closes, ``workflows.review.closed`` and the version's new status.
    Raises PermissionDenied, ValidationError.
    """
    if kind not in DecisionKind.values:
        raise ValidationError({"kind": "Choose approve, reject or request_changes."})
    comment = comment.strip()
    if kind != DecisionKind.APPROVE and not comment:
        raise ValidationError({"comment": "Say why: the developer needs to know what to change."})
    with transaction.atomic():
        # Closing the review writes its version: lock the version first, as every service does (0015).
        ModelVersion.objects.select_for_update(no_key=True).filter(pk=review.version_id).first()
        review = (
            Review.objects.select_for_update(of=("self",), no_key=True)
            .select_related("version__model__project")
            .get(pk=review.pk)
        )
        version = review.version
        project = version.model.project
        require(can.can_view_project(actor, project), "You cannot see this project.")
        if review.status != ReviewStatus.OPEN:
            raise ValidationError({"review": f"This review is already {review.get_status_display().lower()}."})
        digest = evidence_digest(version)
        if evidence_digest_seen != digest:
            raise ValidationError(
                {"evidence_digest": "The evidence changed since you opened it; reload and look again."}
            )
        stage, refusal = stage_for(facts_for(actor, review, digest))
        if stage is None:
            raise PermissionDenied(refusal)
        if kind == DecisionKind.APPROVE and blocking_findings(version):
            raise ValidationError(
                {"kind": "Open high or critical findings block approval; resolve or accept them first."}
            )
        open_before = {s["key"] for s in open_stages(review.stages, review.decisions.all(), digest)}
        try:
            with transaction.atomic():
                decision = Decision.objects.create(
                    review=review, stage=stage["key"], decider=actor, kind=kind, comment=comment, evidence_digest=digest
                )
        except IntegrityError:
            raise PermissionDenied("You have already decided on this review; one person fills one place.") from None
        audit_record(
            actor=actor,
            action=Action.DECISION_RECORDED,
            target=review,
            project=project,
            data={"stage": stage["key"], "kind": kind, "comment": comment, "evidence_digest": digest},
        )
        label = f"{version.model.name} v{version.number}"
        announce(
            event=Event.REVIEW_DECIDED,
            title=f"{actor.get_username()}: {DecisionKind(kind).label.lower()} on {label} ({stage['name']})",
            body=comment,
            recipients=[review.submitted_by, version.created_by],
            url=review_url(review),
            project=project,
            data={
                "review": review.pk,
                "version": version.pk,
                "stage": stage["key"],
                "kind": kind,
                "decider": actor.get_username(),
            },
        )
        _close_if_decided(actor, review, version, kind, digest)
        if review.status == ReviewStatus.OPEN:
            announce_waiting(
                review,
                [
                    s["key"]
                    for s in open_stages(review.stages, review.decisions.all(), digest)
                    if s["key"] not in open_before
                ],
            )
    return decision


def _close_if_decided(actor: User, review: Review, version: ModelVersion, kind: str, digest: str) -> None:
    if kind == DecisionKind.APPROVE and active_stage(review.stages, review.decisions.all(), digest) is not None:
        return  # the review waits for more approvals
    outcome = lifecycle.REVIEW_OUTCOMES[kind]
    review_status, version_status = outcome.review_status, outcome.target_from(version.status)
    now = timezone.now()
    review.status = review_status
    review.closed_at = now
    if review_status == ReviewStatus.APPROVED:
        review.approved_digest = digest
        review.expires_at = now + timedelta(days=review.review_period_days)
    review.save()
    before = version.status
    version.status = version_status
    version.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=Action.REVIEW_CLOSED,
        target=review,
        project=version.model.project,
        changes=changes_between({"version_status": before}, {"version_status": version_status}),
        data={"outcome": review_status, "evidence_digest": digest},
    )
    project = version.model.project
    announce(
        event=Event.REVIEW_CLOSED,
        title=f"{version.model.name} v{version.number}: {ReviewStatus(review_status).label.lower()}",
        body=f"Review {review.cycle} of {version.model.name} v{version.number} in {project.name} closed.",
        recipients=[review.submitted_by, version.created_by, *project_people(project, ProjectRole.OWNER)],
        url=review_url(review),
        project=project,
        data={"review": review.pk, "version": version.pk, "outcome": review_status, "kind": review.kind},
    )
