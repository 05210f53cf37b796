"""Runs executed by real Celery workers on Redis: end to end, a killed worker, duplicate messages."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from django.test import Client

from apps.registry.models import DatasetVersion
from apps.validation import services
from apps.validation.models import CheckResult, ValidationRun
from apps.validation.tasks import execute_run
from tests.conftest import bearer, signed_in
from tests.validation.conftest import SUITE, evaluation_table, upload
from tests.workers import celery_worker, wait_for
from tests.workflows.conftest import Flow


def finished(run_id: int) -> bool:
    return ValidationRun.objects.get(pk=run_id).status in ("succeeded", "failed", "error")


def distinct_results(run: ValidationRun) -> int:
    return len(set(run.results.values_list("check_name", "metric", "column", "attribute", "group")))


def _is_check(process: psutil.Process) -> bool:
    """A live check process; one that ended (gone, or a zombie not yet reaped by its parent) is not."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE and "apps.validation.sandbox" in " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False


def long_run_data(flow: Flow, tmp_path: Path) -> tuple[DatasetVersion, DatasetVersion]:
    """Reference and current data of 3,000,000 rows each: a run long enough to be caught running."""
    rows = 3_000_000
    reference = upload(flow, evaluation_table(rows, seed=1), tmp_path, "reference.parquet")
    current = upload(flow, evaluation_table(rows, seed=2), tmp_path, "current.parquet")
    return reference, current


@pytest.fixture
def live_flow(transactional_db: None) -> Flow:
    return Flow("low")


@pytest.mark.worker
def test_a_run_created_through_the_api_is_executed_by_a_worker_and_shown_by_the_api_and_the_page(
    live_flow: Flow, tmp_path: Path, token_for
) -> None:
    flow = live_flow
    reference = upload(flow, evaluation_table(seed=1), tmp_path, "reference.parquet")
    current = upload(flow, evaluation_table(seed=2, skew=0.3), tmp_path, "current.parquet")
    api = Client(headers=bearer(token_for(flow.developer)))
    with celery_worker(tmp_path / "worker.log"):
        created = api.post(
            "/api/v1/validation-runs/",
            {"version": flow.version.pk, "reference": reference.pk, "current": current.pk, "spec": SUITE},
            content_type="application/json",
        )
        assert created.status_code == 201
        run_id = created.json()["id"]
        assert wait_for(lambda: finished(run_id), timeout=60), (tmp_path / "worker.log").read_text()
    body = api.get(f"/api/v1/validation-runs/{run_id}/").json()
    assert body["status"] == "failed"  # group b is selected far more often
    unfair = [r for r in body["results"] if r["metric"] == "demographic_parity_difference"]
    assert unfair
    assert unfair[0]["status"] == "fail"
    assert body["attempts"] == 1
    assert body["worker"]
    page = signed_in(flow.business_owner).get(f"/validation/runs/{run_id}/").content.decode()
    assert "Did not pass" in page
    assert "Fairness (whether groups of people are treated alike)" in page


@pytest.mark.worker
def test_a_worker_killed_in_the_middle_of_a_run_leaves_it_to_the_next_worker_which_completes_it_once(
    live_flow: Flow, tmp_path: Path
) -> None:
    flow = live_flow
    reference, current = long_run_data(flow, tmp_path)
    # The lease is what the next worker waits out: 6 s here, renewed every 2 s by the first worker.
    env = {"VALIDATION_LEASE_SECONDS": "6", "VALIDATION_HEARTBEAT_SECONDS": "2"}
    with celery_worker(tmp_path / "first.log", env=env) as first:
        run = services.run_create(actor=flow.developer, version=flow.version, reference=reference, current=current)
        assert wait_for(lambda: ValidationRun.objects.get(pk=run.pk).status == "running", timeout=30, interval=0.05)
        worker = psutil.Process(first.pid)
        for process in [*worker.children(recursive=True), worker]:
            process.kill()  # SIGKILL: no chance to clean up or to reject the message
        first.wait()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("running", 1)
    assert not run.results.exists()
    with celery_worker(tmp_path / "second.log", env=env):

        def swept_and_finished() -> bool:
            services.runs_sweep()  # what beat does every 15 s: re-send runs whose lease expired
            return finished(run.pk)

        assert wait_for(swept_and_finished, timeout=120, interval=2), (tmp_path / "second.log").read_text()
    run.refresh_from_db()
    assert run.status in ("succeeded", "failed")
    assert run.attempts == 2
    assert run.results.count() == distinct_results(run) > 0


@pytest.mark.worker
def test_the_same_message_delivered_twice_executes_the_run_once(live_flow: Flow, tmp_path: Path) -> None:
    flow = live_flow
    reference = upload(flow, evaluation_table(seed=1), tmp_path, "reference.parquet")
    current = upload(flow, evaluation_table(seed=2), tmp_path, "current.parquet")
    log = tmp_path / "worker.log"
    with celery_worker(log) as worker:
        run = services.run_create(
            actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
        )
        execute_run.delay(run.pk)
        execute_run.delay(run.pk)
        assert wait_for(lambda: finished(run.pk), timeout=60), log.read_text()
        # Three messages (the one sent on commit and two duplicates): wait until both duplicates found nothing to claim.
        assert wait_for(lambda: log.read_bytes().count(b"not claimed (") >= 2, timeout=60), log.read_text()
        # An unusable file ends its run as an error; the worker survives and takes the next run.
        Path(current.file.path).write_bytes(b"PK\x03\x04" + b"\x00" * 64)
        broken = services.run_create(actor=flow.developer, version=flow.version, reference=reference, current=current)
        assert wait_for(lambda: finished(broken.pk), timeout=60)
        assert worker.poll() is None
    run.refresh_from_db()
    assert run.attempts == 1
    assert CheckResult.objects.filter(run=run).count() == distinct_results(run)
    broken.refresh_from_db()
    assert broken.status == "error"
    assert broken.error
    assert "Traceback" not in broken.error


@pytest.mark.worker
def test_a_worker_whose_run_was_taken_over_stops_its_check_process_and_records_nothing(
    live_flow: Flow, tmp_path: Path
) -> None:
    from django.db.models import F

    flow = live_flow
    reference, current = long_run_data(flow, tmp_path)
    env = {"VALIDATION_LEASE_SECONDS": "6", "VALIDATION_HEARTBEAT_SECONDS": "1"}
    log = tmp_path / "worker.log"
    with celery_worker(log, env=env) as worker:

        def checking() -> list[psutil.Process]:
            return [child for child in psutil.Process(worker.pid).children(recursive=True) if _is_check(child)]

        run = services.run_create(actor=flow.developer, version=flow.version, reference=reference, current=current)
        assert wait_for(lambda: bool(checking()), timeout=30, interval=0.05)
        # The worker stalled past its lease and another claimed the run: what that claim writes.
        ValidationRun.objects.filter(pk=run.pk).update(attempts=F("attempts") + 1, worker="someone-else")
        assert wait_for(lambda: not checking(), timeout=4, interval=0.1), "the check process was not stopped"
        assert wait_for(lambda: b"not recorded (claim lost to attempt 2" in log.read_bytes(), timeout=10)
        assert worker.poll() is None
    run.refresh_from_db()
    assert (run.status, run.worker) == ("running", "someone-else")
    assert not run.results.exists()
