"""Running a suite on files: the standard suite, its values, thresholds, statuses and threads."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from scipy import stats as scipy_stats
from sklearn import metrics

from apps.validation.engine import InputError, SpecError, overall_status
from tests.validation.engine_files import BINARY, RESULT_KEYS, find, run, write


def test_standard_suite_runs_every_metric_the_columns_allow(tmp_path, binary_files):
    reference, current = binary_files
    outcome = run(tmp_path, reference, current, {"task": "binary_classification", "columns": BINARY})
    produced = {(item["check"], item["metric"]) for item in outcome.results}
    for metric in ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier"):
        assert ("performance", metric) in produced
    for metric in ("psi", "ks_statistic", "ks_pvalue", "chi2_pvalue"):
        assert ("drift", metric) in produced
    for metric in ("count", "selection_rate", "tpr", "fpr", "accuracy", "demographic_parity_difference"):
        assert ("fairness", metric) in produced
    for metric in ("row_count", "schema", "missing_rate", "duplicate_rows"):
        assert ("quality", metric) in produced
    assert ("documentation", "completeness") in produced
    assert ("integrity", "sha256") in produced
    # Features are inferred from the reference's types, never from the mapped columns.
    drift_columns = {item["column"] for item in outcome.results if item["check"] == "drift"}
    assert drift_columns == {"f0", "f1", "count", "c0"}
    assert {item["column"] for item in outcome.results if item["metric"] == "ks_statistic"} == {"f0", "f1", "count"}
    assert {item["column"] for item in outcome.results if item["metric"] == "chi2_pvalue"} == {"c0"}


def test_results_have_the_design_shape_and_are_strict_json(tmp_path, binary_files):
    reference, current = binary_files
    outcome = run(tmp_path, reference, current, {"task": "binary_classification", "columns": BINARY})
    document = outcome.to_dict()
    assert set(document) == {"status", "results"}
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    for item in outcome.results:
        assert set(item) == RESULT_KEYS
        assert item["status"] in {"pass", "warn", "fail", "error", "skipped"}
        value = item["value"]
        assert value is None or isinstance(value, str | int | float)
        if isinstance(value, float):
            assert math.isfinite(value)
        if value is None:
            assert item["message"], item


def test_standard_suite_values_match_the_reference_implementations(tmp_path, binary_files):
    reference, current = binary_files
    outcome = run(tmp_path, reference, current, {"task": "binary_classification", "columns": BINARY})
    y_true = current.column("y_true").to_numpy()
    y_pred = current.column("y_pred").to_numpy()
    score = current.column("y_score").to_numpy()
    assert find(outcome, "roc_auc")["value"] == pytest.approx(metrics.roc_auc_score(y_true, score), abs=1e-12)
    assert find(outcome, "f1")["value"] == pytest.approx(metrics.f1_score(y_true, y_pred), abs=1e-12)
    assert find(outcome, "log_loss")["value"] == pytest.approx(metrics.log_loss(y_true, score), abs=1e-9)
    expected_ks = scipy_stats.ks_2samp(
        reference.column("f0").to_numpy(), current.column("f0").to_numpy(), method="asymp"
    )
    assert find(outcome, "ks_pvalue", column="f0")["value"] == pytest.approx(float(expected_ks.pvalue), abs=1e-6)
    groups = current.column("group").to_pylist()
    assert find(outcome, "demographic_parity_difference", attribute="group")["value"] == pytest.approx(
        demographic_parity_difference(y_true, y_pred, sensitive_features=groups), abs=1e-12
    )
    assert find(outcome, "equalized_odds_difference", attribute="group")["value"] == pytest.approx(
        equalized_odds_difference(y_true, y_pred, sensitive_features=groups), abs=1e-12
    )
    assert find(outcome, "row_count")["value"] == 2_500


def test_csv_and_parquet_give_the_same_results(tmp_path, binary_files):
    reference, current = binary_files
    spec = {"task": "binary_classification", "columns": BINARY}
    (tmp_path / "p").mkdir()
    (tmp_path / "c").mkdir()
    from_parquet = run(tmp_path / "p", reference, current, spec)
    from_csv = run(tmp_path / "c", reference, current, spec, fmt="csv")
    assert len(from_parquet.results) == len(from_csv.results)
    for left, right in zip(from_parquet.results, from_csv.results, strict=True):
        assert {k: v for k, v in left.items() if k != "value"} == {k: v for k, v in right.items() if k != "value"}
        if isinstance(left["value"], float):
            assert right["value"] == pytest.approx(left["value"], abs=1e-12)
        else:
            assert left["value"] == right["value"]


def test_progress_is_reported_from_zero_to_one_hundred_in_order(tmp_path, binary_files):
    reference, current = binary_files
    seen: list[tuple[int, str]] = []
    spec = {"task": "binary_classification", "columns": BINARY}
    run(tmp_path, reference, current, spec, progress=lambda percent, step: seen.append((percent, step)))
    percents = [percent for percent, _ in seen]
    assert percents[0] == 0
    assert percents[-1] == 100
    assert percents == sorted(percents)
    steps = [step for _, step in seen]
    assert "Drift of f0" in steps
    assert "Fairness across group" in steps
    assert "Data quality of the current dataset" in steps


def test_thresholds_decide_pass_warn_and_fail(tmp_path, binary_files):
    reference, current = binary_files
    spec = {
        "task": "binary_classification",
        "columns": BINARY,
        "checks": [
            {"check": "performance", "metric": "roc_auc", "min": 0.99},
            {"check": "performance", "metric": "accuracy", "min": 0.1, "warn_min": 0.99},
            {"check": "performance", "metric": "brier", "max": 0.9},
            {"check": "drift", "metric": "psi", "column": "f0"},
        ],
    }
    outcome = run(tmp_path, reference, current, spec)
    auc = find(outcome, "roc_auc")
    assert auc["status"] == "fail"
    assert auc["threshold"] == {"min": 0.99}
    assert "is below the minimum 0.99" in auc["message"]
    assert find(outcome, "accuracy")["status"] == "warn"
    assert find(outcome, "brier")["status"] == "pass"
    # A check written without a threshold takes the standard suite's.
    assert find(outcome, "psi", column="f0")["threshold"] == {"max": 0.2, "warn_max": 0.1}
    assert outcome.status == "fail"


def test_overall_status_is_the_worst_result():
    def of(*statuses: str) -> str:
        return overall_status([{"status": status} for status in statuses])

    assert of("pass", "warn", "fail", "error") == "fail"
    assert of("pass", "error", "warn") == "error"
    assert of("pass", "warn", "skipped") == "warn"
    assert of("pass", "skipped") == "pass"
    assert of("skipped") == "skipped"
    assert of() == "skipped"


def test_spec_errors_and_input_errors_are_distinct_exceptions():
    assert not issubclass(SpecError, InputError)
    assert not issubclass(InputError, SpecError)


def test_one_thread_and_two_threads_give_identical_results(tmp_path, binary_files, monkeypatch):
    from apps.validation.engine import runner

    reference, current = binary_files
    spec = {"task": "binary_classification", "columns": BINARY}
    threaded = run(tmp_path, reference, current, spec)
    monkeypatch.setattr(runner, "THREADS", 1)
    sequential = run(tmp_path, reference, current, spec)
    assert threaded.to_dict() == sequential.to_dict()


def test_the_engine_runs_without_scipy_scikit_learn_or_fairlearn(tmp_path, binary_files):
    import subprocess
    import sys

    reference, current = binary_files
    write(tmp_path, "reference.parquet", reference)
    write(tmp_path, "current.parquet", current)
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from apps.validation.engine import parse_spec, run_suite\n"
        f"spec = parse_spec({{'task': 'binary_classification', 'columns': {BINARY!r}}})\n"
        f"run_suite(Path({str(tmp_path / 'reference.parquet')!r}), Path({str(tmp_path / 'current.parquet')!r}), spec)\n"
        "print(json.dumps(sorted(m for m in ('scipy', 'sklearn', 'fairlearn', 'django') if m in sys.modules)))\n"
    )
    root = Path(__file__).resolve().parents[2]
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(completed.stdout) == []
