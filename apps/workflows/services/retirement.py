"""Retiring a version: it leaves service and the gate refuses it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.core.permissions import require
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.projects.choices import ProjectRole
from apps.projects.selectors import project_people
from apps.registry.models import ModelVersion
from apps.workflows import lifecycle
from apps.workflows.choices import ReviewStatus
from apps.workflows.models import Review
from apps.workflows.services._common import version_move


def version_retire(*, actor: User, version: ModelVersion, reason: str) -> ModelVersion:
    """Retire a version: it leaves service and the gate refuses it from now on (owners and IT operations).

    An open re-certification is withdrawn with it; a version under a submission review is decided first.
    Side effects: ``registry.model_version.retired``, ``workflows.review.withdrawn`` where one was open.
    Raises PermissionDenied, ValidationError.
    """
    project = version.model.project
    move = lifecycle.MOVES["retire"]
    require(move.may(actor, project), move.denied)
    reason = reason.strip()
    if not reason or "\x00" in reason:
        raise ValidationError({"reason": "Say why the version is retired; the record keeps it."})
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update(of=("self",), no_key=True)
            .select_related("model__project")
            .get(pk=version.pk)
        )
        refusal = lifecycle.state_refusal(move, lifecycle.VersionState(version))
        if refusal is not None:
            raise ValidationError({refusal.field: refusal.message})
        # An open re-certification is withdrawn with the version (a submission review refused it above).
        open_reviews = list(
            Review.objects.select_for_update(no_key=True).filter(version=version, status=ReviewStatus.OPEN)
        )
        for review in open_reviews:
            review.status, review.closed_at = ReviewStatus.WITHDRAWN, timezone.now()
            review.save(update_fields=["status", "closed_at"])
            audit_record(
                actor=actor,
                action=Action.REVIEW_WITHDRAWN,
                target=review,
                project=project,
                data={"reason": reason},
            )
        version_move(actor, version, move.target, Action.VERSION_RETIRED, {"reason": reason})
        announce(
            event=Event.VERSION_RETIRED,
            title=f"{version.model.name} v{version.number} was retired",
            body=reason,
            recipients=[version.created_by, *project_people(project, ProjectRole.OWNER, ProjectRole.IT_OPS)],
            url=reverse("registry:version_detail", kwargs={"version_id": version.pk}),
            project=project,
            data={"version": version.pk, "model": version.model.name, "number": version.number, "reason": reason},
        )
    return version
