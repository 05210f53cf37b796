"""Real Celery workers on Redis: a worker killed while profiling a batch, and the batch is profiled once.

As tests/validation/test_faults.py: real workers and beat, real Redis and PostgreSQL, the lease,
heartbeat and sweep shortened (lease 6 s, heartbeat 2 s, sweep 3 s) so the takeover comes quickly.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from apps.audit.models import AuditEvent
from apps.monitoring import services
from apps.monitoring.models import Batch, BatchProfile, Monitor, SourceFile, WindowResult
from tests.monitoring.conftest import Watched, hour, traffic, write
from tests.workers import celery_beat, celery_worker, kill_tree, wait_for
from tests.workflows.conftest import Flow

TIMINGS = {
    "VALIDATION_LEASE_SECONDS": "6",
    "VALIDATION_HEARTBEAT_SECONDS": "2",
    "VALIDATION_SWEEP_SECONDS": "3",
    "VALIDATION_RESEND_SECONDS": "20",
}


def big_batch(rows: int) -> pa.Table:
    """Traffic over six hours with integer prediction ids (large enough that profiling takes seconds)."""
    small = traffic(rows, start=hour(1), seed=5, spread_hours=6)
    ids = pa.array(np.arange(rows, dtype=np.int64))
    return small.set_column(small.schema.get_field_index("prediction_id"), "prediction_id", ids)


def status(batch: Batch) -> tuple[str, int]:
    batch.refresh_from_db()
    return batch.status, batch.attempts


@pytest.mark.worker
def test_a_worker_killed_while_profiling_leaves_the_batch_to_another_and_it_is_profiled_once(
    transactional_db: None, tmp_path: Path
) -> None:
    watched = Watched(Flow("low"), tmp_path)
    table = big_batch(1_500_000)
    with celery_beat(tmp_path / "beat.log", env=TIMINGS):
        with celery_worker(tmp_path / "worker-1.log", env=TIMINGS, pool="prefork", name="doomed") as doomed:
            batch, _new = watched.send(table, "big.parquet")
            assert wait_for(lambda: status(batch)[0] == "profiling", timeout=60, interval=0.05), status(batch)
            kill_tree(doomed)
        assert status(batch) == ("profiling", 1)  # killed mid-profile: nothing written
        assert not BatchProfile.objects.filter(batch=batch).exists()
        with celery_worker(tmp_path / "worker-2.log", env=TIMINGS, pool="prefork", name="survivor"):
            done = wait_for(lambda: status(batch)[0] == "profiled", timeout=120, interval=0.5)
            assert done, (tmp_path / "worker-2.log").read_text()[-3000:]
            windows = wait_for(
                lambda: WindowResult.objects.filter(monitor=watched.monitor, size="day").exists(), timeout=60
            )
    assert windows, (tmp_path / "worker-2.log").read_text()[-3000:]
    profiles = BatchProfile.objects.filter(batch=batch)
    starts = list(profiles.values_list("start", flat=True))
    assert len(starts) == len(set(starts)) >= 6
    assert sum(profiles.values_list("rows", flat=True)) == table.num_rows
    target = {"target_id": str(batch.pk)}
    assert AuditEvent.objects.filter(action="monitoring.batch.profiled", **target).count() == 1
    takeover = AuditEvent.objects.get(action="monitoring.batch.profiling_started", data__attempt=2, **target)
    assert takeover.data["taken_over_from"].startswith("doomed")
    assert AuditEvent.objects.filter(action="monitoring.batch.received", **target).count() == 1


@pytest.mark.worker
def test_beat_reads_a_monitor_folder_and_each_file_is_received_once_and_profiled(
    transactional_db: None, tmp_path: Path, settings
) -> None:
    root = tmp_path / "feeds"
    settings.SIGNET_MONITORING_INGEST_ROOTS = [str(root)]
    watched = Watched(Flow("low"), tmp_path)
    feeds = root / watched.monitor.version.model.project.slug  # one folder per project under each root
    (feeds / "predictions").mkdir(parents=True)
    services.monitor_source_set(actor=watched.flow.it_ops, monitor=watched.monitor, source=str(feeds))
    env = {**TIMINGS, "MONITORING_INGEST_ROOTS": str(root), "MONITORING_INGEST_SECONDS": "5",
           "MONITORING_INGEST_SETTLE_SECONDS": "0"}  # fmt: skip
    write(traffic(300, start=hour(2), seed=3), feeds / "predictions", "a.csv")
    write(traffic(300, start=hour(1), seed=4, first_id=250), feeds / "predictions", "b.parquet")  # repeats 50 ids
    with celery_beat(tmp_path / "beat.log", env=env), celery_worker(tmp_path / "worker.log", env=env):

        def done() -> bool:
            return (
                Batch.objects.filter(monitor=watched.monitor, status="profiled").count() == 1
                and SourceFile.objects.filter(monitor=watched.monitor).count() == 2
            )

        assert wait_for(done, timeout=90, interval=0.5), (tmp_path / "worker.log").read_text()[-3000:]
        scanned = Monitor.objects.get(pk=watched.monitor.pk).source_scanned_at
        assert scanned is not None
        later = scanned + timedelta(seconds=4)

        def read_again() -> bool:  # two more readings find nothing new
            now = Monitor.objects.get(pk=watched.monitor.pk).source_scanned_at
            return now is not None and now > later

        assert wait_for(read_again, timeout=30)
    rows = {Path(row.location).name: row for row in SourceFile.objects.filter(monitor=watched.monitor)}
    assert rows["a.csv"].status == "received"
    assert rows["b.parquet"].status == "refused"
    assert "50 prediction ids of this batch were counted before" in rows["b.parquet"].reason
    assert AuditEvent.objects.filter(action="monitoring.batch.received").count() == 1
    assert AuditEvent.objects.filter(action="monitoring.source_file.refused").count() == 1
    assert AuditEvent.objects.filter(action="monitoring.batch.profiled").count() == 1
