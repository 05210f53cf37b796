"""Set up a monitor of a deployed version: governed, checked against its reference, audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between, snapshot
from apps.core.permissions import require, unique_or_invalid
from apps.monitoring import profiling
from apps.monitoring.choices import WindowSize
from apps.monitoring.models import Monitor
from apps.monitoring.permissions import MONITOR_DENIED, can_monitor
from apps.monitoring.selectors import approved_validation
from apps.monitoring.services.common import local_files
from apps.monitoring.services.sources import clean_source
from apps.projects.choices import ProjectRole
from apps.registry.choices import VersionStatus
from apps.registry.models import DatasetVersion
from apps.validation.services.common import clean_spec
from apps.workflows.models import Deployment

MONITOR_FIELDS = (
    "name", "deployment", "reference", "spec", "id_column", "timestamp_column", "window_sizes", "breach_window",
    "notify_roles", "gate_blocking", "expected_interval_minutes", "retention_days", "outcome_lookback_days",
    "source",
)  # fmt: skip


def _check_settings(
    window_sizes: list[str], breach_window: str, notify_roles: list[str], id_column: str, timestamp_column: str
) -> None:
    if not window_sizes or any(size not in WindowSize.values for size in window_sizes):
        raise ValidationError({"window_sizes": f"Choose window sizes among {', '.join(WindowSize.values)}."})
    if breach_window not in window_sizes:
        raise ValidationError({"breach_window": "Breaches are judged on one of the monitor's window sizes."})
    if any(role not in ProjectRole.values for role in notify_roles):
        raise ValidationError({"notify_roles": f"Name project roles among {', '.join(ProjectRole.values)}."})
    if not id_column.strip() or not timestamp_column.strip() or id_column == timestamp_column:
        raise ValidationError({"id_column": "Name two different columns for the prediction id and its time."})


def monitor_create(
    *,
    actor: User,
    deployment: Deployment,
    name: str,
    reference: DatasetVersion | None = None,
    spec: object = None,
    id_column: str = "prediction_id",
    timestamp_column: str = "timestamp",
    window_sizes: list[str] | None = None,
    breach_window: str = WindowSize.DAY,
    notify_roles: list[str] | None = None,
    gate_blocking: bool = False,
    expected_interval_minutes: int | None = None,
    retention_days: int = 90,
    outcome_lookback_days: int = 30,
    source: str = "",
) -> Monitor:
    """Start monitoring ``deployment`` (owners, developers and IT operations of its project).

    The reference is ``reference`` or else the current data of the version's newest passing
    validation run; the suite is ``spec`` or else that run's. The reference is read once here, so
    a reference the engine cannot use is refused now, not at the first batch. ``source`` names where
    the worker reads batches (``sources.clean_source``: inside the allowed roots).
    Side effects: ``monitoring.monitor.created``. Raises PermissionDenied, ValidationError.
    """
    version = deployment.version
    project = version.model.project
    require(can_monitor(actor, project), MONITOR_DENIED)
    if version.status != VersionStatus.DEPLOYED:
        raise ValidationError({"deployment": "Monitor a version that is deployed now."})
    window_sizes = list(dict.fromkeys(window_sizes or [WindowSize.HOUR, WindowSize.DAY, WindowSize.WEEK]))
    notify_roles = list(dict.fromkeys(notify_roles or [ProjectRole.OWNER, ProjectRole.DEVELOPER]))
    _check_settings(window_sizes, breach_window, notify_roles, id_column, timestamp_column)
    source = clean_source(source, project.slug)
    if reference is None or spec is None:
        run = approved_validation(deployment)
        if run is None:
            raise ValidationError(
                {"reference": "This version has no passing validation run; choose a reference dataset and a suite."}
            )
        reference = reference or run.current
        spec = run.spec if spec is None else spec
    if reference.dataset.project_id != project.pk:
        raise ValidationError({"reference": "Use a dataset of this version's project."})
    if not reference.file:
        raise ValidationError({"reference": "This dataset version is only a link; a monitor needs an uploaded file."})
    clean = clean_spec(spec)
    try:
        with local_files([reference.file.name]) as (path,):
            state = profiling.reference_state(path, clean, id_column=id_column, timestamp_column=timestamp_column)
    except profiling.BatchError as exc:
        raise ValidationError({"reference": str(exc)}) from None
    monitor = Monitor(
        deployment=deployment,
        version=version,
        name=name.strip(),
        reference=reference,
        spec=clean,
        reference_state=state,
        id_column=id_column,
        timestamp_column=timestamp_column,
        window_sizes=window_sizes,
        breach_window=breach_window,
        notify_roles=notify_roles,
        gate_blocking=gate_blocking,
        expected_interval_minutes=expected_interval_minutes,
        retention_days=retention_days,
        outcome_lookback_days=outcome_lookback_days,
        source=source,
        source_set_by=actor if source else None,
        created_by=actor,
    )
    monitor.full_clean(exclude=["reference_state"], validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        with unique_or_invalid("name", "This deployment already has a monitor with this name."):
            monitor.save()
        audit_record(
            actor=actor,
            action=Action.MONITOR_CREATED,
            target=monitor,
            project=project,
            changes=changes_between({}, _governed(monitor)),
            data={"version": version.pk, "environment": deployment.environment},
        )
    return monitor


def _governed(monitor: Monitor) -> dict[str, Any]:
    return snapshot(monitor, MONITOR_FIELDS)
