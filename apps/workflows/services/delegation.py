"""Handing one's pending decision on a review to another eligible person."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.workflows.choices import ReviewStatus
from apps.workflows.evidence import evidence_digest
from apps.workflows.models import Delegation, Review
from apps.workflows.permissions import sign_off_refusal
from apps.workflows.services._common import review_url
from apps.workflows.signers import facts_for
from apps.workflows.stages import stage_for


def review_delegate(*, actor: User, review: Review, to_user: User, reason: str = "") -> Delegation:
    """Hand one's pending decision to another person who may sign the same stage.

    Side effects: the actor can no longer decide on this review; ``workflows.review.delegated``.
    Raises PermissionDenied (the actor may not sign now), ValidationError (the delegate may not).
    """
    with transaction.atomic():
        review = (
            Review.objects.select_for_update(of=("self",), no_key=True)
            .select_related("version__model__project")
            .get(pk=review.pk)
        )
        if review.status != ReviewStatus.OPEN:
            raise ValidationError({"review": f"This review is already {review.get_status_display().lower()}."})
        digest = evidence_digest(review.version)
        stage, refusal = stage_for(facts_for(actor, review, digest))
        if stage is None:
            raise PermissionDenied(refusal)
        if to_user.pk == actor.pk:
            raise ValidationError({"to_user": "Delegate to someone else."})
        delegate_refusal = sign_off_refusal(to_user, review, stage, digest)
        if delegate_refusal is not None:
            raise ValidationError({"to_user": f"{to_user.username} cannot sign this stage: {delegate_refusal}"})
        delegation = Delegation.objects.create(
            review=review, stage=stage["key"], from_user=actor, to_user=to_user, reason=reason.strip()
        )
        audit_record(
            actor=actor,
            action=Action.REVIEW_DELEGATED,
            target=review,
            project=review.version.model.project,
            data={"stage": stage["key"], "to": to_user.username, "reason": reason.strip()},
        )
        version = review.version
        announce(
            event=Event.REVIEW_WAITING,
            title=f"{actor.get_username()} handed you the {stage['name'].lower()} of "
            f"{version.model.name} v{version.number}",
            body=reason.strip(),
            recipients=[to_user],
            url=review_url(review),
            project=version.model.project,
            data={
                "review": review.pk,
                "version": version.pk,
                "stage": stage["key"],
                "delegated_by": actor.get_username(),
            },
        )
    return delegation
