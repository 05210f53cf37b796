"""Real Celery workers on Redis: a worker killed while profiling a batch, and the batch is profiled once.

As tests/validation/test_faults.py: real workers and beat, real Redis and PostgreSQL, the lease,
heartbeat and sweep shortened (lease 6 s, heartbeat 2 s, sweep 3 s) so the takeover comes quickly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from apps.audit.models import AuditEvent
from apps.monitoring.models import Batch, BatchProfile, WindowResult
from tests.monitoring.conftest import Watched, hour, traffic
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
