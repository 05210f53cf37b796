"""Validation runs executed (in-process here) through the sandbox: results, limits, the sweep, stored values."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from apps.audit.models import AuditEvent
from apps.notifications.models import Notification
from apps.validation import services
from apps.validation.models import CheckResult, ValidationRun
from tests.conftest import signed_in
from tests.validation.conftest import SUITE, evaluation_table, upload
from tests.workflows.conftest import Flow


def test_a_run_records_the_engines_results_once_with_values_that_match_scikit_learn(flow: Flow, data) -> None:
    reference, current = data
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    status = services.run_execute(run.pk, worker="test")
    run.refresh_from_db()
    assert status == run.status
    assert run.status in ("succeeded", "failed")
    assert (run.progress, run.attempts, run.worker) == (100, 1, "test")
    table = evaluation_table(seed=2).to_pydict()
    stored = {(r.check_name, r.metric): r.value for r in run.results.filter(column="", group="", attribute="")}
    assert stored[("performance", "roc_auc")] == pytest.approx(
        roc_auc_score(table["y_true"], table["y_score"]), abs=1e-9
    )
    assert stored[("performance", "accuracy")] == pytest.approx(
        accuracy_score(table["y_true"], table["y_pred"]), abs=1e-9
    )
    assert run.curves["roc"][0] == [0.0, 0.0]
    assert run.curves["roc"][-1] == [1.0, 1.0]
    count = CheckResult.objects.filter(run=run).count()
    assert count > 10
    assert services.run_execute(run.pk, worker="again").startswith("not claimed")
    assert CheckResult.objects.filter(run=run).count() == count
    finished = AuditEvent.objects.get(action="validation.run.finished")
    assert (finished.actor_name, finished.data["outcome"]) == ("worker", run.outcome)
    assert Notification.objects.filter(recipient=flow.developer, event="validation.finished").exists()


def test_a_file_damaged_on_disk_ends_the_run_as_error_with_a_reason(flow: Flow, data) -> None:
    reference, current = data
    Path(current.file.path).write_bytes(b"\x80\x03cos\nsystem\nq\x00X\x06\x00\x00\x00whoamiq\x01\x85q\x02Rq\x03.")
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    assert services.run_execute(run.pk) == "error"
    run.refresh_from_db()
    assert run.error
    assert "Traceback" not in run.error
    assert run.attempts == 1  # an unusable file is not retried
    assert not run.results.exists()


def test_a_run_that_exceeds_its_memory_limit_is_retried_then_given_up_with_a_reason(flow: Flow, data, settings) -> None:
    settings.SIGNET_VALIDATION_MEMORY_MB = 256  # below what the check process needs to start
    settings.SIGNET_VALIDATION_MAX_ATTEMPTS = 2
    reference, current = data
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    assert services.run_execute(run.pk) == "queued"
    assert services.run_execute(run.pk) == "error"
    run.refresh_from_db()
    assert run.attempts == 2
    assert "Gave up after 2 attempts" in run.error
    assert "MB" in run.error or "stopped unexpectedly" in run.error


def test_a_run_over_its_time_limit_is_stopped_and_ends_as_an_error_with_the_reason(flow: Flow, data, settings) -> None:
    settings.SIGNET_VALIDATION_TIME_LIMIT_SECONDS = 0.2  # less than the check process needs to start
    settings.SIGNET_VALIDATION_MAX_ATTEMPTS = 1
    reference, current = data
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    assert services.run_execute(run.pk) == "error"
    run.refresh_from_db()
    assert run.error == "The checks took longer than the 0.2 s a run may use. Gave up after 1 attempt."
    assert not run.results.exists()


def test_the_sweep_resends_lost_and_abandoned_runs_once_each(flow: Flow, data) -> None:
    from datetime import timedelta

    from django.utils import timezone

    reference, current = data
    fresh, lost, abandoned = (
        services.run_create(
            actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
        )
        for _ in range(3)
    )
    past = timezone.now() - timedelta(minutes=10)
    ValidationRun.objects.filter(pk=lost.pk).update(enqueued_at=past)
    ValidationRun.objects.filter(pk=abandoned.pk).update(
        status="running", enqueued_at=past, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.runs_sweep() == 2  # not the fresh one
    assert services.runs_sweep() == 0  # and not again until something changes
    assert ValidationRun.objects.get(pk=fresh.pk).status == "queued"


def test_group_values_holding_nul_are_stored_readably(flow: Flow, data, tmp_path: Path) -> None:
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    reference, _current = data
    table = evaluation_table(seed=5)
    groups = [("b\x00x" if value == "b" else value) for value in table.column("group").to_pylist()]
    table = table.set_column(table.schema.get_field_index("group"), "group", pa.array(groups))
    current = upload(flow, table, tmp_path, "nul-groups.parquet")  # an uploaded file may hold NUL in its values
    run = services.run_create(
        actor=flow.validator, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    assert services.run_execute(run.pk) in ("succeeded", "failed")  # recorded, not stuck in "running"
    stored = set(CheckResult.objects.filter(run=run, attribute="group").values_list("group", flat=True))
    assert "b\ufffdx" in stored
    page = signed_in(flow.validator).get(f"/validation/runs/{run.pk}/")
    assert page.status_code == 200
    assert "b\ufffdx" in page.content.decode()
