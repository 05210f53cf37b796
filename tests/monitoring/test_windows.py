"""Profiles, windows and breaches, in this process (the workers' part is tests/monitoring/test_workers.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from apps.audit.models import AuditEvent
from apps.monitoring.models import Batch, BatchProfile, Breach, WindowResult
from apps.notifications.models import Notification
from apps.validation.engine import parse_spec, run_suite
from apps.workflows.gate import gate_check
from apps.workflows.models import Finding
from tests.monitoring.conftest import SUITE, Watched, hour, outcomes_of, settle, traffic


def _day_results(watched: Watched, start) -> list[dict]:
    rows = WindowResult.objects.filter(monitor=watched.monitor, size="day", start=start).order_by("position")
    return [r.as_dict() for r in rows]


def test_a_batch_is_profiled_once_per_hour_it_spans(watched: Watched) -> None:
    batch, _new = watched.send(traffic(600, start=hour(1), seed=2, spread_hours=3), "b.csv")
    settle(watched)
    batch.refresh_from_db()
    assert batch.status == "profiled"
    profiles = BatchProfile.objects.filter(batch=batch)
    assert profiles.count() == 3
    assert sum(p.rows for p in profiles) == 600
    assert AuditEvent.objects.filter(action="monitoring.batch.profiled", target_id=str(batch.pk)).count() == 1
    sizes = set(WindowResult.objects.filter(monitor=watched.monitor).values_list("size", flat=True))
    assert sizes == {"hour", "day", "week"}


def test_a_day_window_equals_a_validation_run_on_the_days_data_with_its_outcomes(
    watched: Watched, tmp_path: Path
) -> None:
    start = hour(2).replace(hour=3)
    first = traffic(700, start=start, seed=11, spread_hours=2)
    second = traffic(500, start=start.replace(hour=9), seed=12, first_id=10_000, spread_hours=3)
    watched.send(first, "first.csv")
    watched.send(second, "second.csv")
    watched.send(outcomes_of(first, 11), "first-outcomes.csv", kind="outcomes")
    watched.send(outcomes_of(second, 12), "second-outcomes.csv", kind="outcomes")
    settle(watched)
    assert all(p.labelled == p.rows for p in BatchProfile.objects.filter(monitor=watched.monitor))
    # The same day as a validation run would see it: the rows with their labels, in the reference's columns.
    labelled = [t.append_column("y_true", outcomes_of(t, seed)["y_true"]) for t, seed in ((first, 11), (second, 12))]
    columns = ["y_true", "y_pred", "y_score", "f0", "f1", "c0", "group"]
    day = pa.concat_tables(labelled).select(columns)
    pq.write_table(day, tmp_path / "day.parquet")
    expected = run_suite(Path(watched.reference.file.path), tmp_path / "day.parquet", parse_spec(SUITE)).results
    got = _day_results(watched, start.replace(hour=0))
    assert [(r["check"], r["metric"], r["column"]) for r in got] == [
        (r["check"], r["metric"], r["column"]) for r in expected
    ]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine["status"] == theirs["status"], (mine, theirs)
        if theirs["value"] is None:
            assert mine["value"] is None
        else:
            assert math.isclose(mine["value"], theirs["value"], rel_tol=0, abs_tol=1e-9), (mine, theirs)


def test_a_drifting_day_raises_one_finding_and_a_recovered_day_says_so(watched: Watched) -> None:
    flow = watched.flow
    watched.send(traffic(800, start=hour(3), seed=21, shift=1.5), "drift-1.csv")
    settle(watched)
    breaches = Breach.objects.filter(monitor=watched.monitor, recovered_at__isnull=True)
    drifting = {b.column for b in breaches if b.metric == "psi"}
    assert "f0" in drifting, list(breaches.values_list("key", "value"))
    findings = Finding.objects.filter(version=flow.version, source__startswith=f"monitor:{watched.monitor.pk}:")
    assert findings.count() == breaches.count()
    assert set(findings.values_list("severity", flat=True)) == {"medium"}
    assert Notification.objects.filter(event="monitor.breached", recipient=flow.developer).exists()
    # More drift the same day: the breach is still open, no second finding for the same metric.
    watched.send(
        traffic(800, start=hour(3).replace(hour=(hour(3).hour + 1) % 24), seed=22, shift=1.5, first_id=5000),
        "drift-2.csv",
    )
    settle(watched)
    assert Finding.objects.filter(version=flow.version, source__startswith="monitor:").count() == findings.count()
    # The next day is like the reference again: the breach recovers, the finding stays for a person to close.
    watched.send(traffic(3000, start=hour(1), seed=23, first_id=9000), "calm.csv")
    settle(watched)
    f0 = Breach.objects.get(monitor=watched.monitor, metric="psi", column="f0")
    assert f0.recovered_at is not None
    assert AuditEvent.objects.filter(action="monitoring.breach.recovered", target_id=str(f0.pk)).count() == 1
    recovered = Notification.objects.filter(event="monitor.recovered", recipient=flow.developer)
    assert any("psi of f0 is" in n.body and "within its threshold again" in n.body for n in recovered)
    assert f0.finding is not None
    assert f0.finding.status == "open"


def test_the_gate_refuses_a_version_whose_gate_blocking_monitor_breaches_until_it_recovers(flow, tmp_path) -> None:
    watched = Watched(flow, tmp_path, gate_blocking=True)
    assert gate_check(version=flow.version, environment="production").allowed
    watched.send(traffic(800, start=hour(3), seed=31, shift=1.5), "drift.csv")
    settle(watched)
    answer = gate_check(version=flow.version, environment="production")
    assert not answer.allowed
    assert any("breaches its monitor production" in reason for reason in answer.reasons), answer.reasons
    watched.send(traffic(3000, start=hour(1), seed=32, first_id=9000), "calm.csv")
    settle(watched)
    assert gate_check(version=flow.version, environment="production").allowed


def test_a_breach_of_a_monitor_that_does_not_block_leaves_the_gate_open(watched: Watched) -> None:
    watched.send(traffic(800, start=hour(3), seed=31, shift=1.5), "drift.csv")
    settle(watched)
    assert Breach.objects.filter(monitor=watched.monitor, recovered_at__isnull=True).exists()
    assert gate_check(version=watched.flow.version, environment="production").allowed


def test_a_quarantined_batch_does_not_count(watched: Watched) -> None:
    batch, _new = watched.send(traffic(200, start=hour(1), seed=41), "b.csv")
    Path(batch.file.path).write_text("prediction_id,timestamp\n1,2\n")  # the stored file went bad after receipt
    settle(watched)
    batch.refresh_from_db()
    assert batch.status == "quarantined"
    assert batch.reason
    assert not BatchProfile.objects.filter(batch=batch).exists()
    assert AuditEvent.objects.filter(action="monitoring.batch.quarantined", target_id=str(batch.pk)).count() == 1
    assert not Batch.objects.filter(monitor=watched.monitor, status="profiled").exists()


def test_the_api_gives_a_metric_over_time_and_the_breaches(watched: Watched, api) -> None:
    watched.send(traffic(800, start=hour(3), seed=51, shift=1.5), "drift.csv")
    settle(watched)
    watched.send(traffic(3000, start=hour(1), seed=52, first_id=9000), "calm.csv")
    settle(watched)
    base = f"/api/v1/monitors/{watched.monitor.pk}"
    series = api(watched.flow.owner).get(f"{base}/windows/?metric=psi&column=f0").json()["results"]
    assert [w["size"] for w in series] == ["day", "day"]
    assert series[0]["start"] < series[1]["start"]
    assert (series[0]["status"], series[1]["status"]) == ("fail", "pass")
    hours = api(watched.flow.owner).get(f"{base}/windows/?size=hour&metric=psi&column=f0").json()["results"]
    assert len(hours) >= 2
    assert all(w["size"] == "hour" for w in hours)
    breaches = api(watched.flow.validator).get(f"{base}/breaches/").json()["results"]
    f0 = next(b for b in breaches if b["metric"] == "psi" and b["column"] == "f0")
    assert (f0["open"], f0["finding"] is not None) == (False, True)
    assert api(watched.flow.owner).get(f"{base}/windows/?size=month").status_code == 400
    assert api(watched.flow.outsider).get(f"{base}/breaches/").status_code == 404
    assert api(watched.flow.outsider).get(f"{base}/windows/").status_code == 404
