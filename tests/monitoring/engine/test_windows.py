"""A window's results from profiles equal a validation run on the window's rows put together."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from apps.monitoring.engine import (
    RAW_METRICS,
    Profile,
    RawWindow,
    Reference,
    build_reference,
    merge,
    profile_batch,
    window_results,
    window_series,
)
from apps.validation.engine import parse_spec, run_suite
from tests.monitoring.engine import data

TOLERANCE = 1e-9
STANDARD_CHECKS = (
    [{"check": "drift", "metric": metric} for metric in ("psi", "ks_statistic", "chi2_pvalue")]
    + [{"check": "performance", "metric": metric} for metric in ("accuracy", "precision", "recall", "f1", "roc_auc")]
    + [
        {"check": "fairness", "metric": metric}
        for metric in ("count", "selection_rate", "tpr", "fpr", "demographic_parity_ratio", "equalized_odds_difference")
    ]
    + [{"check": "quality", "metric": metric} for metric in ("row_count", "missing_rate", "schema", "duplicate_rows")]
)


def assert_same_results(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Every result equal, numbers within 1e-9 (messages, statuses, thresholds exactly)."""
    assert [(r["check"], r["metric"], r["column"], r["attribute"], r["group"]) for r in got] == [
        (r["check"], r["metric"], r["column"], r["attribute"], r["group"]) for r in expected
    ]
    for mine, theirs in zip(got, expected, strict=True):
        value, other = mine["value"], theirs["value"]
        if isinstance(other, float) and isinstance(value, float):
            assert math.isclose(value, other, rel_tol=0, abs_tol=TOLERANCE), (mine, theirs)
        else:
            assert value == other, (mine, theirs)
        assert {k: v for k, v in mine.items() if k != "value"} == {k: v for k, v in theirs.items() if k != "value"}


def profiled(
    tmp_path: Path, window: data.Window, reference: Reference, parts: int, seed: int, *, csv: bool = False
) -> tuple[list[Profile], list[Path], list[Path]]:
    outcomes = [
        data.write(table, tmp_path / f"outcomes-{parts}-{i}.parquet") for i, table in enumerate(window.outcomes)
    ]
    batches = []
    for i, table in enumerate(data.split(window.predictions, parts, seed)):
        path = tmp_path / f"batch-{parts}-{i}.{'csv' if csv else 'parquet'}"
        batches.append(data.write_csv(table, path) if csv else data.write(table, path))
    profiles = [p for batch in batches for p in profile_batch(batch, reference, now=data.NOW, outcomes=outcomes)]
    return profiles, batches, outcomes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_window_results_equal_a_validation_run_on_the_window_rows(tmp_path: Path, seed: int) -> None:
    reference_path = data.write(data.reference_table(seed), tmp_path / "reference.parquet")
    window = data.window(seed, shift=0.3 * seed)
    current = data.write(window.combined, tmp_path / "current.parquet")
    spec = parse_spec(data.BINARY_SPEC)
    reference = build_reference(reference_path, spec)
    profiles, batches, outcomes = profiled(tmp_path, window, reference, 4, seed)

    got = window_results(profiles, reference, raw=RawWindow(reference_path, batches, outcomes))

    expected = run_suite(reference_path, current, spec).results
    assert_same_results(got, expected)
    drifted = [r for r in got if r["metric"] == "psi" and r["column"] == "f0"]
    assert drifted[0]["value"] > 0.01  # the window does drift
    assert any(r["check"] == "fairness" and r["group"] == "g10" for r in got)


def test_results_without_raw_batches_are_the_same_except_the_raw_metrics_skipped(tmp_path: Path) -> None:
    reference_path = data.write(data.reference_table(4), tmp_path / "reference.parquet")
    window = data.window(4)
    current = data.write(window.combined, tmp_path / "current.parquet")
    spec = parse_spec(data.BINARY_SPEC)
    reference = build_reference(reference_path, spec)
    profiles, _, _ = profiled(tmp_path, window, reference, 3, 4)

    got = window_results(profiles, reference)

    expected = run_suite(reference_path, current, spec).results
    raw = [i for i, r in enumerate(expected) if (r["check"], r["metric"]) in RAW_METRICS]
    assert raw  # KS, ROC AUC, log loss, Brier, duplicate rows
    for i in raw:
        assert got[i]["value"] is None
        assert got[i]["status"] == "skipped"
        assert "raw batches" in got[i]["message"]
    assert_same_results(
        [r for i, r in enumerate(got) if i not in raw], [r for i, r in enumerate(expected) if i not in raw]
    )


@pytest.mark.parametrize("seed", [5, 6])
def test_the_same_rows_split_1_4_and_16_ways_give_identical_results(tmp_path: Path, seed: int) -> None:
    reference_path = data.write(data.reference_table(seed), tmp_path / "reference.parquet")
    window = data.window(seed, shift=0.5)
    reference = build_reference(reference_path, parse_spec(data.BINARY_SPEC))
    answers = []
    merged = []
    for parts in (1, 4, 16):
        profiles, batches, outcomes = profiled(tmp_path, window, reference, parts, seed + parts)
        random.Random(parts).shuffle(batches)  # the order the batches are listed in does not matter either
        answers.append(window_results(profiles, reference, raw=RawWindow(reference_path, batches, outcomes)))
        merged.append(merge(profiles).to_bytes())
    assert answers[0] == answers[1] == answers[2]  # identical, not merely close
    assert merged[0] == merged[1] == merged[2]


def test_merging_profiles_in_any_order_gives_the_same_bytes(tmp_path: Path) -> None:
    reference_path = data.write(data.reference_table(7), tmp_path / "reference.parquet")
    reference = build_reference(reference_path, parse_spec(data.BINARY_SPEC))
    profiles, _, _ = profiled(tmp_path, data.window(7), reference, 5, 7)
    shuffled = profiles[:]
    random.Random(1).shuffle(shuffled)
    halves = [merge(shuffled[: len(shuffled) // 2]), merge(shuffled[len(shuffled) // 2 :])]
    assert merge(profiles).to_bytes() == merge(shuffled).to_bytes() == merge(halves).to_bytes()


def test_profiles_are_cut_at_bucket_boundaries_and_round_trip_through_json(tmp_path: Path) -> None:
    reference_path = data.write(data.reference_table(8), tmp_path / "reference.parquet")
    reference = build_reference(reference_path, parse_spec(data.BINARY_SPEC))
    window = data.window(8, rows=2000)
    batch = data.write(window.predictions, tmp_path / "batch.parquet")

    hours = profile_batch(batch, reference, now=data.NOW)
    days = profile_batch(batch, reference, now=data.NOW, bucket_seconds=86_400)

    assert [p.start_time for p in days] == [data.WINDOW_START, data.WINDOW_START.replace(day=6)]
    assert len(hours) == 48
    assert all(p.start % 3600 == 0 for p in hours)
    assert sum(p.rows for p in hours) == sum(p.rows for p in days) == 2000
    assert merge(hours[:24]).to_dict() | {"start": 0, "bucket_seconds": 0} == days[0].to_dict() | {
        "start": 0,
        "bucket_seconds": 0,
    }
    for profile in hours[:3]:
        stored = profile.to_bytes()
        assert b"\x80" not in stored[:2]  # JSON, not a pickle
        assert Profile.from_bytes(stored).to_bytes() == stored
    stored_reference = json.dumps(reference.to_dict())
    again = Reference.from_dict(json.loads(stored_reference))
    assert again.key == reference.key
    assert np.array_equal(again.numeric["f0"].edges, reference.numeric["f0"].edges)


def test_csv_batches_with_text_timestamps_give_the_results_of_parquet_batches(tmp_path: Path) -> None:
    reference_path = data.write(data.reference_table(9), tmp_path / "reference.parquet")
    window = data.window(9, rows=1500)
    reference = build_reference(reference_path, parse_spec(data.BINARY_SPEC))
    from_parquet, _, _ = profiled(tmp_path, window, reference, 2, 9)
    from_csv, _, _ = profiled(tmp_path, window, reference, 2, 9, csv=True)
    assert merge(from_csv).to_bytes() == merge(from_parquet).to_bytes()


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_multiclass_and_regression_windows_equal_validation_runs(tmp_path: Path, task: str) -> None:
    rng = np.random.default_rng(11)
    reference_table = data.task_table(task, rng, 2500, 0.0)
    window = data.task_window(task, rng, 3000)
    reference_path = data.write(reference_table, tmp_path / "reference.parquet")
    current = data.write(window.combined, tmp_path / "current.parquet")
    spec = parse_spec({"task": task, "columns": {"target": "y_true", "prediction": "y_pred"}, "checks": "standard"})
    reference = build_reference(reference_path, spec)
    profiles, batches, outcomes = profiled(tmp_path, window, reference, 4, 11)

    got = window_results(profiles, reference, raw=RawWindow(reference_path, batches, outcomes))

    assert_same_results(got, run_suite(reference_path, current, spec).results)


def test_an_explicit_suite_with_ranges_and_missing_rates_equals_a_validation_run(tmp_path: Path) -> None:
    reference_path = data.write(data.reference_table(12), tmp_path / "reference.parquet")
    window = data.window(12)
    current = data.write(window.combined, tmp_path / "current.parquet")
    suite: dict[str, Any] = dict(data.BINARY_SPEC)
    suite["checks"] = [
        {"check": "quality", "metric": "range", "column": "f1", "min": 0.0, "max": 2.5},
        {"check": "quality", "metric": "range", "column": "f3", "min": -1.0},
        {"check": "quality", "metric": "missing_rate", "column": "y_true", "max": 0.05},
        {"check": "quality", "metric": "schema"},
        {"check": "drift", "metric": "psi", "column": "c1", "max": 0.05},
        {"check": "drift", "metric": "chi2_pvalue", "min": 0.01},
        {"check": "performance", "metric": "f1", "min": 0.5},
        {"check": "fairness", "metric": "equalized_odds_difference", "max": 0.05},
    ]
    spec = parse_spec(suite)
    reference = build_reference(reference_path, spec)
    profiles, batches, outcomes = profiled(tmp_path, window, reference, 3, 12)

    got = window_results(profiles, reference, raw=RawWindow(reference_path, batches, outcomes))

    assert_same_results(got, run_suite(reference_path, current, spec).results)
    assert got[0]["value"] > 0  # exponential values above 2.5
    assert got[2]["status"] == "fail"  # about 15% of the predictions have no outcome yet


def test_a_window_of_batches_without_outcomes_reports_labels_as_missing(tmp_path: Path) -> None:
    reference_path = data.write(data.reference_table(13), tmp_path / "reference.parquet")
    window = data.window(13, labelled_share=0.0)
    current = data.write(window.combined, tmp_path / "current.parquet")
    spec = parse_spec(data.BINARY_SPEC)
    reference = build_reference(reference_path, spec)
    batch = data.write(window.predictions, tmp_path / "batch.parquet")
    profiles = profile_batch(batch, reference, now=data.NOW)

    got = window_results(profiles, reference, raw=RawWindow(reference_path, [batch]))

    assert_same_results(got, run_suite(reference_path, current, spec).results)
    assert sum(p.labelled for p in profiles) == 0


def test_a_window_takes_only_the_raw_rows_within_its_bounds(tmp_path: Path) -> None:
    reference_path = data.write(data.reference_table(14), tmp_path / "reference.parquet")
    window = data.window(14)
    reference = build_reference(reference_path, parse_spec(data.BINARY_SPEC))
    batch = data.write(window.predictions, tmp_path / "batch.parquet")
    days = profile_batch(batch, reference, now=data.NOW, bucket_seconds=86_400)
    first_day = data.WINDOW_START.replace(day=6)

    one_day = window_results(days[:1], reference, raw=RawWindow(reference_path, [batch], end=first_day))

    rows = next(r for r in one_day if r["metric"] == "row_count")["value"]
    assert rows == days[0].rows < window.predictions.num_rows
    ks = next(r for r in one_day if r["metric"] == "ks_statistic" and r["column"] == "f0")
    day_rows = window.predictions.filter(
        pa.array(np.asarray(window.predictions["timestamp"].to_numpy()) < np.datetime64("2026-12-06"))
    )
    assert ks["value"] == pytest.approx(data.ks_of(reference_path, day_rows, "f0"), abs=1e-12)


@pytest.mark.parametrize("bucket_seconds", [3600, 86_400])
def test_window_series_gives_each_windows_values_and_statuses_exactly(tmp_path: Path, bucket_seconds: int) -> None:
    reference_path = data.write(data.reference_table(15), tmp_path / "reference.parquet")
    window = data.window(15, rows=12_000)
    suite: dict[str, Any] = dict(data.BINARY_SPEC)
    suite["checks"] = [*STANDARD_CHECKS, {"check": "quality", "metric": "range", "column": "f1", "max": 3.0}]
    reference = build_reference(reference_path, parse_spec(suite))
    outcomes = [data.write(t, tmp_path / f"outcomes-{i}.parquet") for i, t in enumerate(window.outcomes)]
    batch = data.write(window.predictions, tmp_path / "batch.parquet")
    profiles = profile_batch(batch, reference, now=data.NOW, outcomes=outcomes, bucket_seconds=bucket_seconds)
    windows = [[profile] for profile in profiles] + [profiles]  # every bucket, and all of them together

    series = window_series(windows, reference)

    assert series.computed_one_by_one < len(windows)  # most windows take the vectorised path
    for index, group in enumerate(windows):
        found = {
            key: (v[index], s[index]) for key, v, s in zip(series.keys, series.values, series.statuses, strict=True)
        }
        results = window_results(group, reference)
        keys = [(r["check"], r["metric"], r["column"], r["attribute"], r["group"]) for r in results]
        assert [found[key] for key in keys] == [(r["value"], r["status"]) for r in results]
        assert all(found[key] == (None, "skipped") for key in found if key not in keys)
