"""Store a validation suite for a project, optionally run on a schedule."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.core.permissions import require
from apps.projects.models import Project
from apps.registry.models import Dataset, DatasetVersion, RegisteredModel
from apps.validation.models import ValidationSuite
from apps.validation.permissions import can_validate
from apps.validation.services.common import VALIDATE_DENIED, clean_spec


def suite_create(
    *,
    actor: User,
    project: Project,
    name: str,
    spec: object,
    model: RegisteredModel | None = None,
    reference: DatasetVersion | None = None,
    current_dataset: Dataset | None = None,
    schedule_hours: int | None = None,
) -> ValidationSuite:
    """Store a suite for a project, optionally run every ``schedule_hours`` on the latest current data.

    Side effects: ``validation.suite.created``. Raises PermissionDenied, ValidationError.
    """
    require(can_validate(actor, project), VALIDATE_DENIED)
    name = (name or "").strip()
    if not name or "\x00" in name or len(name) > 120:
        raise ValidationError({"name": "Give the suite a name of at most 120 characters."})
    clean = clean_spec(spec)
    if model is not None and model.project_id != project.pk:
        raise ValidationError({"model": "Use a model of this project."})
    if reference is not None and (reference.dataset.project_id != project.pk or not reference.file):
        raise ValidationError({"reference": "Use an uploaded dataset version of this project."})
    if current_dataset is not None and current_dataset.project_id != project.pk:
        raise ValidationError({"current_dataset": "Use a dataset of this project."})
    if schedule_hours is not None:
        if (
            isinstance(schedule_hours, bool)
            or not isinstance(schedule_hours, int)
            or not 1 <= schedule_hours <= 24 * 90
        ):
            raise ValidationError({"schedule_hours": "Run every 1 to 2,160 hours, or leave it empty."})
        if model is None or reference is None or current_dataset is None:
            raise ValidationError(
                {
                    "schedule_hours": "A scheduled suite needs a model, a reference dataset version "
                    "and a current dataset."
                }
            )
    try:
        with transaction.atomic():
            suite = ValidationSuite.objects.create(
                project=project, model=model, name=name, spec=clean, reference=reference,
                current_dataset=current_dataset, schedule_hours=schedule_hours, created_by=actor,
            )  # fmt: skip
            audit_record(
                actor=actor,
                action=Action.SUITE_CREATED,
                target=suite,
                project=project,
                data={"name": name, "schedule_hours": schedule_hours, "spec": clean},
            )
    except IntegrityError:  # suite_unique_name decides, also between two requests at once
        raise ValidationError({"name": "This project already has a suite with this name."}) from None
    return suite
