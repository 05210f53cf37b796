"""Reads of validation runs and suites, restricted to what the user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from apps.projects.models import Project
from apps.validation.choices import FINISHED
from apps.validation.models import CheckResult, ValidationRun, ValidationSuite
from apps.validation.permissions import can_validate

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from apps.accounts.models import User
    from apps.registry.models import ModelVersion


def runs_visible_to(user: User | AnonymousUser) -> QuerySet[ValidationRun]:
    return ValidationRun.objects.filter(version__model__project__in=Project.objects.visible_to(user)).select_related(
        "version__model__project", "reference__dataset", "current__dataset", "suite", "created_by"
    )


def suites_visible_to(user: User | AnonymousUser) -> QuerySet[ValidationSuite]:
    return ValidationSuite.objects.filter(project__in=Project.objects.visible_to(user)).select_related(
        "project", "model", "reference__dataset", "current_dataset", "created_by"
    )


def metric_history(run: ValidationRun, limit: int = 20) -> dict[str, list[tuple[int, float]]]:
    """Per overall metric (no column or group), its values across the finished runs of the same model."""
    # The latest runs first (an index walk), then only their results: a schedule adds thousands of runs a year.
    recent = (
        ValidationRun.objects.filter(version__model_id=run.version.model_id, status__in=FINISHED)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[:limit]
    )
    rows = (
        CheckResult.objects.filter(
            run_id__in=list(recent), check_name="performance", column="", group="", value__isnull=False
        )
        .order_by("-run__created_at", "-run_id")
        .values_list("metric", "run_id", "value")
    )
    history: dict[str, list[tuple[int, float]]] = {}
    for metric, run_id, value in reversed(list(rows)):  # the newest runs, oldest first
        if value is not None:
            history.setdefault(metric, []).append((run_id, value))
    return {metric: points[-limit:] for metric, points in history.items()}


def validation_panel(*, user: User | AnonymousUser, version: ModelVersion) -> dict[str, Any]:
    """What the version page shows of validation: recent runs and whether this person may start one."""
    return {
        "validation_runs": ValidationRun.objects.filter(version=version).select_related("created_by")[:10],
        "can_validate": can_validate(user, version.model.project),
    }
