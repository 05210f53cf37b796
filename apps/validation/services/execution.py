"""Execute a claimed run in the sandbox and record its outcome once, for the attempt that holds it.

A crash (a time or memory limit, an unexpected exit) is retried with a growing delay until
``SIGNET_VALIDATION_MAX_ATTEMPTS``; an unusable input ends the run at once with the reason. Only the
worker that still holds the claim writes the outcome: results, audit, notification, and for a
scheduled run that did not succeed, the ``scheduled_run_checked`` signal (workflows raises a finding).
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between
from apps.core.text import storable, storable_json
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.projects.choices import ProjectRole
from apps.projects.selectors import project_people
from apps.registry.cards import card_completeness
from apps.validation.choices import CheckStatus, RunStatus, RunTrigger
from apps.validation.heartbeat import Heartbeat
from apps.validation.models import CheckResult, ValidationRun, result_fields
from apps.validation.sandbox.parent import Outcome, run_in_sandbox
from apps.validation.services.common import enqueue_after_commit
from apps.validation.services.leases import lease_seconds, run_claim, run_lease_renew
from apps.validation.signals import scheduled_run_checked

TASK_MARGIN_SECONDS = 60  # the task may outlive its check process by this much (results, audit, notifications)


def _job(run: ValidationRun) -> dict[str, Any]:
    version = run.version
    done = card_completeness(version.card, version.model.project.risk_tier)
    artifact = None
    if version.artifact_sha256:
        artifact = {"path": _reachable_artifact(version.artifact_uri), "expected_sha256": version.artifact_sha256}
    return {
        "reference": run.reference.file.path,
        "current": run.current.file.path,
        "spec": run.spec,
        "documentation": {"completeness": done.percent / 100, "missing_sections": list(done.missing_titles)},
        "artifact": artifact,
        "memory_mb": settings.SIGNET_VALIDATION_MEMORY_MB,
        "cpu_seconds": settings.SIGNET_VALIDATION_TIME_LIMIT_SECONDS,
    }


def _reachable_artifact(uri: str) -> str | None:
    """A ``file://`` artifact inside an allowed folder; anything else is not reachable from here."""
    if not uri.startswith("file://"):
        return None
    path = Path(uri.removeprefix("file://")).resolve()
    roots = [Path(root).resolve() for root in settings.SIGNET_ARTIFACT_ROOTS]
    if any(path.is_relative_to(root) for root in roots) and path.is_file():
        return str(path)
    return None


def _sandbox(run: ValidationRun, heartbeat: Heartbeat | None = None) -> Outcome:
    """Run the engine on ``run`` in its check process, relaying progress (and liveness) to the database."""

    def relay(percent: int, step: str) -> None:
        ValidationRun.objects.filter(pk=run.pk, attempts=run.attempts, status=RunStatus.RUNNING).update(
            progress=percent,
            step=step,
            lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds()),  # still alive
        )

    return run_in_sandbox(_job(run), on_progress=relay, heartbeat=heartbeat, label=f"validation run {run.pk}")


def _gave_up(attempts: int) -> str:
    return f"Gave up after {attempts} attempt{'s' if attempts != 1 else ''}."


def run_execute(run_id: int, *, worker: str | None = None) -> str:
    """Claim and execute one run; return its status afterwards (or why nothing was done).

    Side effects: progress updates; CheckResult rows and ``validation.run.finished`` once; a
    notification; for a scheduled run that fails, ``scheduled_run_checked`` (workflows raises a
    finding). Never raises for bad input.
    """
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    run = run_claim(run_id, worker)
    if run is None:
        current = ValidationRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
        return f"not claimed ({current or 'missing'})"
    claimed = run

    def renew() -> bool:
        return run_lease_renew(run_id=claimed.pk, attempt=claimed.attempts)

    interval = settings.SIGNET_VALIDATION_HEARTBEAT_SECONDS
    with Heartbeat(renew, interval=interval, name=f"validation run {run.pk} attempt {run.attempts}") as heartbeat:
        return _execute_claimed(run, heartbeat)


def _execute_claimed(run: ValidationRun, heartbeat: Heartbeat) -> str:
    if run.attempts > settings.SIGNET_VALIDATION_MAX_ATTEMPTS:
        return _finish(run, RunStatus.ERROR, error=f"{_gave_up(run.attempts - 1)} {run.error}".strip())
    outcome = _sandbox(run, heartbeat)
    if heartbeat.lost.is_set():  # another worker took the run over: its outcome is not ours to record
        return f"not recorded (claim lost to attempt {run.attempts + 1} or later)"
    if outcome.kind == "result":
        result = outcome.data["result"]
        status = RunStatus.FAILED if result["status"] in (CheckStatus.FAIL, CheckStatus.ERROR) else RunStatus.SUCCEEDED
        return _finish(run, status, result=result, curves=outcome.data.get("curves") or {})
    if outcome.kind == "crash" and run.attempts < settings.SIGNET_VALIDATION_MAX_ATTEMPTS:
        delay = 5 * run.attempts
        with transaction.atomic():
            requeued = ValidationRun.objects.filter(pk=run.pk, attempts=run.attempts, status=RunStatus.RUNNING).update(
                status=RunStatus.QUEUED,
                error=outcome.message,
                lease_expires_at=None,
                step="Waiting to try again",
                enqueued_at=timezone.now() + timedelta(seconds=delay),
            )
            if requeued:
                audit_record(
                    actor=None,
                    actor_name="worker",
                    action=Action.RUN_REQUEUED,
                    target=run,
                    project=run.version.model.project,
                    data={"attempt": run.attempts, "reason": outcome.message},
                )
                enqueue_after_commit(run.pk, countdown=delay)
        return RunStatus.QUEUED
    message = outcome.message
    if outcome.kind == "crash":
        message = f"{message} {_gave_up(run.attempts)}"
    return _finish(run, RunStatus.ERROR, error=message)


def _finish(
    run: ValidationRun,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    curves: dict[str, Any] | None = None,
    error: str = "",
) -> str:
    """Record the outcome once: only the worker that still holds the claim writes it."""
    with transaction.atomic():
        locked = ValidationRun.objects.select_for_update(no_key=True).get(pk=run.pk)
        if locked.status != RunStatus.RUNNING or locked.attempts != run.attempts:
            return f"not recorded (claim lost: {locked.status})"
        # Group values and column names come from uploaded files: NUL would make PostgreSQL refuse the write.
        result, curves, error = storable_json(result or {}), storable_json(curves or {}), storable(error)
        results = result.get("results", [])
        CheckResult.objects.bulk_create(
            CheckResult(
                run=locked,
                position=position,
                value_text=str(item["value"])[:200] if isinstance(item.get("value"), str) else "",
                **result_fields(item),
            )
            for position, item in enumerate(results)
        )
        before = locked.status
        locked.status = status
        locked.outcome = str((result or {}).get("status") or "")[:10]
        locked.progress = 100
        locked.step = "Done" if status != RunStatus.ERROR else "Stopped"
        locked.error = error
        locked.curves = curves or {}
        locked.finished_at = timezone.now()
        locked.lease_expires_at = None
        locked.save()
        version = run.version
        project = version.model.project
        counts = {s: sum(1 for r in results if r.get("status") == s) for s in CheckStatus.values}
        audit_record(
            actor=None,
            actor_name="worker",
            action=Action.RUN_FINISHED,
            target=locked,
            project=project,
            changes=changes_between({"status": before}, {"status": status}),
            data={"version": version.pk, "outcome": locked.outcome, "counts": counts, "error": error,
                  "attempts": locked.attempts},
        )  # fmt: skip
        label = f"{version.model.name} v{version.number}"
        said = {"succeeded": "passed", "failed": "failed", "error": "could not run"}[str(status)]
        owners = project_people(project, ProjectRole.OWNER)
        announce(
            event=Event.VALIDATION_FINISHED,
            title=f"Validation of {label} {said}",
            body=error
            or f"{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed, "
            f"{counts['error']} could not be computed.",
            recipients=[locked.created_by, *(owners if status != RunStatus.SUCCEEDED else [])],
            url=reverse("validation:run_detail", kwargs={"run_id": locked.pk}),
            project=project,
            data={"run": locked.pk, "version": version.pk, "status": status, "counts": counts},
        )
        if status != RunStatus.SUCCEEDED and locked.trigger == RunTrigger.SCHEDULE:
            # Synchronous, in this transaction: a receiver's writes (workflows' finding) commit with the outcome.
            scheduled_run_checked.send(sender=ValidationRun, run=locked, counts=counts)
    return status
