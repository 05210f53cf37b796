"""Submitting a version for review."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between
from apps.core.permissions import require
from apps.registry.models import ModelVersion
from apps.workflows import lifecycle
from apps.workflows.choices import ReviewKind
from apps.workflows.evidence import evidence_digest
from apps.workflows.models import Review
from apps.workflows.services._common import announce_waiting, review_open


def version_submit(*, actor: User, version: ModelVersion) -> Review:
    """Submit a version for review; its policy is snapshotted into a new review cycle.

    Needs a complete model card for the project's tier. Side effects: the version moves to
    in_review; events ``registry.model_version.submitted`` and ``workflows.review.opened``.
    Raises PermissionDenied, ValidationError.
    """
    project = version.model.project
    move = lifecycle.MOVES["submit"]  # renewing an approval needs the same people as submitting
    require(move.may(actor, project), move.denied)
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update(of=("self",), no_key=True)
            .select_related("model__project", "card")
            .get(pk=version.pk)
        )
        # An approved or deployed version comes back for review when its approval went stale or expired.
        move = lifecycle.submission_move(version.status)
        refusal = lifecycle.state_refusal(move, lifecycle.VersionState(version))
        if refusal is not None:
            raise ValidationError({refusal.field: refusal.message})
        review = review_open(version, submitted_by=actor, kind=ReviewKind.SUBMISSION)
        cycle = review.cycle
        policy = review.policy
        before = version.status
        # A deployed version renewing its approval keeps serving (as in a re-certification); the gate
        # refuses it anyway until the new review approves, because its approval is stale or expired.
        if move.target_from(version.status) != version.status:
            version.status = move.target_from(version.status)
            version.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=Action.VERSION_SUBMITTED,
            target=version,
            project=project,
            changes=changes_between({"status": before}, {"status": version.status}),
            data={"review": review.pk, "cycle": cycle, "evidence_digest": evidence_digest(version)},
        )
        audit_record(
            actor=actor,
            action=Action.REVIEW_OPENED,
            target=review,
            project=project,
            data={"policy": str(policy), "stages": [s["key"] for s in policy.stages]},
        )
        announce_waiting(review, [s["key"] for s in review.stages])
    return review
