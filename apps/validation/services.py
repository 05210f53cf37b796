"""Create validation runs, execute them in workers, and record their results.

A run is queued in the request and executed by a Celery task after commit. The database decides
who executes it: a worker claims it with a conditional update and a lease; a second delivery of
the same message finds nothing to claim; a heartbeat thread renews the short lease while the worker
lives (apps/validation/heartbeat.py), and a run whose worker died is claimed again once its lease
has expired (the periodic sweep re-sends it). The engine runs in a child process with memory and
CPU limits (apps/validation/sandbox.py), so a hostile file cannot take the worker down.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_record, changes_between
from apps.core.permissions import require
from apps.core.text import storable, storable_json
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.projects.choices import ProjectRole
from apps.projects.selectors import project_people
from apps.registry.cards import card_completeness
from apps.registry.models import DatasetVersion, ModelVersion
from apps.validation.choices import CheckStatus, RunStatus, RunTrigger
from apps.validation.engine import SpecError, parse_spec
from apps.validation.heartbeat import Heartbeat
from apps.validation.models import CheckResult, ValidationRun, ValidationSuite
from apps.validation.permissions import can_validate
from apps.validation.suites import default_suite

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
VALIDATE_DENIED = "Only the project's owners, developers and validators run validation checks."
TASK_MARGIN_SECONDS = 60  # the task may outlive its check process by this much (results, audit, notifications)


def _clean_spec(spec: Any) -> dict[str, Any]:
    try:
        return parse_spec(spec).to_dict()
    except SpecError as exc:
        raise ValidationError({"spec": str(exc)}) from None
    except RecursionError:
        raise ValidationError({"spec": "This suite is nested too deeply to be a suite."}) from None


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
    spec: Any = None,
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
    clean = _clean_spec(spec)
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
            action="validation.run.created",
            target=run,
            project=project,
            data={"version": version.pk, "reference": reference.pk, "current": current.pk,
                  "suite": suite.name if suite else None},
        )  # fmt: skip
        _enqueue_after_commit(run.pk)
    return run


def _enqueue_after_commit(run_id: int, countdown: float = 0) -> None:
    def send() -> None:
        from apps.validation.tasks import execute_run

        try:
            execute_run.apply_async((run_id,), countdown=countdown)
        except Exception:  # noqa: BLE001 - kombu's errors while the broker is down vary; the run is safe
            # The run is committed: mark its message as never sent, and the next sweep sends it.
            logger.warning("validation run %s: the broker is unreachable; the sweep sends the run later", run_id)
            ValidationRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(enqueued_at=None)

    transaction.on_commit(send, robust=True)


def lease_seconds() -> int:
    """A claim lasts this long unless renewed: the heartbeat renews it while the worker lives, so a
    dead worker's run is taken over soon after (lease + sweep interval, under a minute by default)."""
    return int(settings.SIGNET_VALIDATION_LEASE_SECONDS)


def run_lease_renew(*, run_id: int, attempt: int) -> bool:
    """Extend the lease of a running run for the attempt that holds it; False when the claim is lost.

    No audit event: like progress, the lease is bookkeeping of who executes, not a governed change.
    """
    renewed = ValidationRun.objects.filter(pk=run_id, attempts=attempt, status=RunStatus.RUNNING).update(
        lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds())
    )
    if renewed:
        return True
    # Lost only to another attempt: a run this attempt finished, or one this connection cannot see
    # (its transaction has not committed), is not another worker's.
    return not ValidationRun.objects.filter(pk=run_id).exclude(attempts=attempt).exists()


def run_claim(run_id: int, worker: str) -> ValidationRun | None:
    """Take a queued run, or a running one whose lease expired; None when someone else has it or it is done."""
    with transaction.atomic():  # the claim and its audit event together
        return _claim(run_id, worker)


def _claim(run_id: int, worker: str) -> ValidationRun | None:
    now = timezone.now()
    # Who held an expired claim, for the audit trail: a takeover says whose run it took (informative only).
    before = ValidationRun.objects.filter(pk=run_id).values_list("status", "worker").first()
    claimed = (
        ValidationRun.objects.filter(pk=run_id)
        .filter(Q(status=RunStatus.QUEUED) | Q(status=RunStatus.RUNNING, lease_expires_at__lt=now))
        .update(
            status=RunStatus.RUNNING,
            attempts=F("attempts") + 1,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            worker=worker[:200],
            started_at=Coalesce(F("started_at"), now),
            progress=0,
            step="Starting",
        )
    )
    if not claimed:
        return None
    run = ValidationRun.objects.select_related("version__model__project", "version__card", "reference", "current").get(
        pk=run_id
    )
    audit_record(
        actor=None,
        actor_name="worker",
        action="validation.run.started",
        target=run,
        project=run.version.model.project,
        data={
            "attempt": run.attempts,
            "worker": run.worker,
            **({"taken_over_from": before[1]} if before and before[0] == RunStatus.RUNNING else {}),
        },
    )
    return run


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


class _Outcome:
    def __init__(self, kind: str, message: str = "", data: dict[str, Any] | None = None, retry: bool = False) -> None:
        self.kind, self.message, self.data, self.retry = kind, message, data or {}, retry


def _child_environment() -> dict[str, str]:
    """What the check process needs, and nothing else: no secret key, no database or broker URL."""
    kept = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if name in os.environ}
    return {
        **kept,
        "PYTHONPATH": str(ROOT),
        "ARROW_DEFAULT_MEMORY_POOL": "system",  # Arrow then honours RLIMIT_AS
        "MALLOC_ARENA_MAX": "2",  # glibc reserves an arena per thread otherwise, eating the address space
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }


def _sandbox(run: ValidationRun, heartbeat: Heartbeat | None = None) -> _Outcome:
    """Run the engine in its child process, relaying progress to the database.

    The child's errors go to a file (a full pipe would block it), and a timer kills it at the time
    limit even when it hangs without printing anything; the heartbeat kills it once another worker
    has taken the run over, so a stalled worker that lost its claim does not compute it twice.
    """
    limit = settings.SIGNET_VALIDATION_TIME_LIMIT_SECONDS
    final: dict[str, Any] | None = None
    timed_out = threading.Event()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(  # noqa: S603 - our own module, arguments fixed
            [sys.executable, "-m", "apps.validation.sandbox"],
            cwd=ROOT,
            env=_child_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )

        def stop() -> None:
            timed_out.set()
            process.kill()

        timer = threading.Timer(limit, stop)
        timer.start()
        if heartbeat is not None:
            heartbeat.when_lost(process.kill)
        try:
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write(json.dumps(_job(run)))
            process.stdin.close()
            last_write = 0.0
            for line in process.stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if "progress" not in message:
                    final = message
                elif time.monotonic() - last_write > 0.3:
                    ValidationRun.objects.filter(pk=run.pk, attempts=run.attempts, status=RunStatus.RUNNING).update(
                        progress=max(0, min(99, int(message["progress"]))),
                        step=str(message.get("step", ""))[:200],
                        lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds()),  # still alive
                    )
                    last_write = time.monotonic()
            process.wait()
        except BrokenPipeError:  # the child died before reading its job
            process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:  # we are leaving early (a soft time limit, a database error)
                process.kill()
                process.wait()
        errors.seek(0)
        stderr = errors.read()[-20_000:]
    if final is not None and not timed_out.is_set():
        if "result" in final:
            return _Outcome("result", data=final)
        return _Outcome("unusable", final.get("input_error") or final.get("spec_error") or "The input is unusable.")
    if timed_out.is_set() or process.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return _Outcome("crash", f"The checks took longer than the {limit} s a run may use.", retry=True)
    if "MemoryError" in stderr or "bad_alloc" in stderr or "Cannot allocate memory" in stderr:
        return _Outcome(
            "crash",
            f"Reading the data needed more than the {settings.SIGNET_VALIDATION_MEMORY_MB} MB a run may use.",
            retry=True,
        )
    logger.warning("validation run %s: check process ended with %s: %s", run.pk, process.returncode, stderr[-2000:])
    return _Outcome("crash", f"The check process stopped unexpectedly (exit status {process.returncode}).", retry=True)


def _gave_up(attempts: int) -> str:
    return f"Gave up after {attempts} attempt{'s' if attempts != 1 else ''}."


def run_execute(run_id: int, *, worker: str | None = None) -> str:
    """Claim and execute one run; return its status afterwards (or why nothing was done).

    Side effects: progress updates; CheckResult rows and ``validation.run.finished`` once; a
    notification; for a scheduled run that fails, a finding. Never raises for bad input.
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
                    action="validation.run.requeued",
                    target=run,
                    project=run.version.model.project,
                    data={"attempt": run.attempts, "reason": outcome.message},
                )
                _enqueue_after_commit(run.pk, countdown=delay)
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
                check_name=str(item.get("check") or "")[:20],
                metric=str(item.get("metric") or "")[:60],
                column=str(item.get("column") or "")[:256],
                attribute=str(item.get("attribute") or "")[:256],
                group="" if item.get("group") is None else str(item["group"])[:256],
                value=item.get("value") if isinstance(item.get("value"), (int, float)) else None,
                value_text=str(item["value"])[:200] if isinstance(item.get("value"), str) else "",
                status=item.get("status") if item.get("status") in CheckStatus.values else CheckStatus.ERROR,
                threshold=item.get("threshold"),
                message=str(item.get("message") or ""),
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
            action="validation.run.finished",
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
            from apps.workflows.services import finding_raise_for_scheduled_run

            finding_raise_for_scheduled_run(run=locked, counts=counts)
    return status


def runs_sweep() -> int:
    """Re-send runs whose message may be lost, oldest first; return how many messages were sent.

    A queued run whose message never reached the broker (``enqueued_at`` null: it was down) goes at
    once; any other queued run once its message has waited ``SIGNET_VALIDATION_RESEND_SECONDS``, or
    one sweep interval when the broker's queue is empty (a broker restarted without its data lost
    every message). A running run whose lease expired (its worker died) goes once per expired lease,
    and again on the same terms while nobody claims it. A duplicate message finds nothing to claim.
    Side effects: ``enqueued_at`` and ``execute_run`` messages; none while the broker is down.
    """
    from apps.validation.tasks import execute_run

    now = timezone.now()
    waited = settings.SIGNET_VALIDATION_RESEND_SECONDS
    if _broker_queue_empty():
        waited = min(waited, settings.SIGNET_VALIDATION_SWEEP_SECONDS)
    due = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - timedelta(seconds=waited))
    stale = ValidationRun.objects.filter(
        Q(status=RunStatus.QUEUED) & due
        | Q(status=RunStatus.RUNNING, lease_expires_at__lt=now) & (due | Q(enqueued_at__lt=F("lease_expires_at")))
    )
    ids = list(stale.order_by("pk").values_list("pk", flat=True)[:200])
    ValidationRun.objects.filter(pk__in=ids).update(enqueued_at=now)  # the next sweep does not send them again
    for sent, pk in enumerate(ids):
        try:
            execute_run.delay(pk)
        except Exception:  # noqa: BLE001 - the broker went away again; what was not sent goes next time
            ValidationRun.objects.filter(pk__in=ids[sent:]).update(enqueued_at=None)
            logger.warning(
                "validation sweep: the broker is unreachable; %s runs wait for the next sweep", len(ids) - sent
            )
            return sent
    return len(ids)


def _broker_queue_empty() -> bool:
    """Whether the default queue holds no message (False when the broker cannot tell or is down)."""
    from portal.celery import app

    try:
        with app.connection_for_write() as broker:
            channel = broker.channel()  # one try to connect, no retries
            try:
                declared = channel.queue_declare(queue=settings.CELERY_TASK_DEFAULT_QUEUE)  # type: ignore[attr-defined]  # not in the stubs
            finally:
                channel.close()
    except Exception:  # noqa: BLE001 - any broker error: assume messages are waiting, resend later
        return False
    return int(declared.message_count) == 0


# --- suites ---------------------------------------------------------------------------------------


def suite_create(
    *,
    actor: User,
    project: Any,
    name: str,
    spec: Any,
    model: Any = None,
    reference: DatasetVersion | None = None,
    current_dataset: Any = None,
    schedule_hours: int | None = None,
) -> ValidationSuite:
    """Store a suite for a project, optionally run every ``schedule_hours`` on the latest current data.

    Side effects: ``validation.suite.created``. Raises PermissionDenied, ValidationError.
    """
    require(can_validate(actor, project), VALIDATE_DENIED)
    name = (name or "").strip()
    if not name or "\x00" in name or len(name) > 120:
        raise ValidationError({"name": "Give the suite a name of at most 120 characters."})
    clean = _clean_spec(spec)
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
                action="validation.suite.created",
                target=suite,
                project=project,
                data={"name": name, "schedule_hours": schedule_hours, "spec": clean},
            )
    except IntegrityError:  # suite_unique_name decides, also between two requests at once
        raise ValidationError({"name": "This project already has a suite with this name."}) from None
    return suite


def scheduled_runs(*, now: Any = None) -> int:
    """Queue the runs of scheduled suites that are due, on the model's serving version; return how many."""
    from apps.registry.choices import VersionStatus

    now = now or timezone.now()
    queued = 0
    suites = ValidationSuite.objects.filter(schedule_hours__isnull=False).select_related(
        "model", "project", "reference"
    )
    for suite in suites:
        assert suite.schedule_hours is not None
        if suite.last_scheduled_at and suite.last_scheduled_at > now - timedelta(hours=suite.schedule_hours):
            continue
        version = (
            ModelVersion.objects.filter(model=suite.model, status__in=(VersionStatus.DEPLOYED, VersionStatus.APPROVED))
            .order_by("-status", "-number")  # deployed sorts after approved: prefer it
            .first()
        )
        current = (
            DatasetVersion.objects.filter(dataset=suite.current_dataset).exclude(file="").order_by("-number").first()
        )
        with transaction.atomic():
            locked = ValidationSuite.objects.select_for_update(no_key=True).get(pk=suite.pk)
            if locked.last_scheduled_at != suite.last_scheduled_at:
                continue  # another beat got there first
            locked.last_scheduled_at = now
            locked.save(update_fields=["last_scheduled_at"])
            if version is None or current is None or suite.reference is None or current.pk == suite.reference_id:
                continue  # nothing serves, no data, or no data newer than the reference: nothing to re-validate
            run = ValidationRun.objects.create(
                version=version, suite=suite, spec=suite.spec, reference=suite.reference, current=current,
                trigger=RunTrigger.SCHEDULE, enqueued_at=now,
            )  # fmt: skip
            audit_record(
                actor=None,
                actor_name="schedule",
                action="validation.run.created",
                target=run,
                project=suite.project,
                data={"version": version.pk, "reference": suite.reference_id, "current": current.pk,
                      "suite": suite.name, "trigger": "schedule"},
            )  # fmt: skip
            _enqueue_after_commit(run.pk)
            queued += 1
    return queued
