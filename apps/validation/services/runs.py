"""Queue a validation run: the request checks and records it, a worker executes it after commit."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.core.permissions import require
from apps.registry.models import DatasetVersion, ModelVersion
from apps.validation.models import ValidationRun, ValidationSuite
from apps.validation.permissions import can_validate
from apps.validation.services.common import VALIDATE_DENIED, clean_spec, enqueue_after_commit
from apps.validation.suites import default_suite


def _check_datasets(version: ModelVersion, *datasets: DatasetVersion) -> None:
    for field, dataset in zip(("reference", "current"), datasets, strict=False):
        if dataset.dataset.project_id != version.model.project_id:
            raise ValidationError({field: "Use a dataset of this version's project."})
        if not dataset.file:
            raise ValidationError({field: "This dataset version is only a link; checks need an uploaded file."})


def run_create(
    *,
    actor: User,
    version: ModelVersion,
    reference: DatasetVersion,
    current: DatasetVersion,
    spec: object = None,
    suite: ValidationSuite | None = None,
) -> ValidationRun:
    """Queue a run of a suite on a version; a worker executes it after commit.

    The suite is ``spec`` (JSON), else the stored ``suite``, else the tier's default suite.
    Side effects: ``validation.run.created``; the task ``execute_run`` after commit.
    Raises PermissionDenied, ValidationError (with a message for the person).
    """
    project = version.model.project
    require(can_validate(actor, project), VALIDATE_DENIED)
    if suite is not None and suite.project_id != project.pk:
        raise ValidationError({"suite": "Use a suite of this version's project."})
    if suite is not None and spec is not None:
        raise ValidationError({"spec": "Give a stored suite or a suite as JSON, not both."})
    if reference.pk == current.pk:
        raise ValidationError({"current": "Compare two different dataset versions: the current data is the reference."})
    if spec is None:
        spec = suite.spec if suite is not None else default_suite(project.risk_tier, version.model.task)
    clean = clean_spec(spec)
    _check_datasets(version, reference, current)
    with transaction.atomic():
        run = ValidationRun.objects.create(
            version=version,
            suite=suite,
            spec=clean,
            reference=reference,
            current=current,
            created_by=actor,
            enqueued_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action=Action.RUN_CREATED,
            target=run,
            project=project,
            data={"version": version.pk, "reference": reference.pk, "current": current.pk,
                  "suite": suite.name if suite else None},
        )  # fmt: skip
        enqueue_after_commit(run.pk)
    return run
