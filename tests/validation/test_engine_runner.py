"""Running a suite on files: the standard suite, thresholds, statuses, edge cases and hostile inputs."""

from __future__ import annotations

import hashlib
import json
import math
import pickle  # only to produce a pickle's bytes; nothing here ever loads one
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from scipy import stats as scipy_stats
from sklearn import metrics

from apps.validation.engine import (
    Artifact,
    Documentation,
    InputError,
    SpecError,
    SuiteResult,
    overall_status,
    parse_spec,
    run_suite,
)

RESULT_KEYS = {"check", "metric", "column", "attribute", "group", "value", "status", "threshold", "message"}
BINARY = {"target": "y_true", "prediction": "y_pred", "score": "y_score", "sensitive": ["group"]}


def binary_table(rows: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    f0 = rng.normal(shift, 1.0, rows)
    f1 = np.round(rng.normal(0.0, 2.0, rows), 1)
    score = 1 / (1 + np.exp(-(f0 + rng.normal(0, 1, rows))))
    y_true = (rng.random(rows) < score).astype(np.int64)
    return pa.table(
        {
            "f0": f0,
            "f1": f1,
            "count": rng.integers(0, 20, rows),
            "c0": rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2]),
            "group": rng.choice(["g1", "g2", "g3"], rows),
            "y_true": y_true,
            "y_score": np.round(score, 2),
            "y_pred": (score > 0.5).astype(np.int64),
        }
    )


def write(directory: Path, name: str, table: pa.Table) -> Path:
    path = directory / name
    if name.endswith(".csv"):
        pa_csv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    return path


def run(directory: Path, reference: pa.Table, current: pa.Table, spec: dict, fmt: str = "parquet", **kwargs):
    return run_suite(
        write(directory, f"reference.{fmt}", reference),
        write(directory, f"current.{fmt}", current),
        parse_spec(spec),
        **kwargs,
    )


def find(outcome: SuiteResult, metric: str, **where: object) -> dict:
    matches = [
        item
        for item in outcome.results
        if item["metric"] == metric and all(item[key] == value for key, value in where.items())
    ]
    assert len(matches) == 1, (metric, where, matches)
    return matches[0]


@pytest.fixture
def binary_files(tmp_path):
    return binary_table(3_000, seed=1), binary_table(2_500, seed=2, shift=0.3)


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


def test_labels_that_are_not_binary_give_an_error_result_not_a_crash(tmp_path, binary_files):
    reference, current = binary_files
    labels = current.set_column(current.schema.get_field_index("y_true"), "y_true", pa.array([0, 1, 2, 1, 0] * 500))
    outcome = run(tmp_path, reference, labels, {"task": "binary_classification", "columns": BINARY})
    for metric in ("accuracy", "roc_auc"):
        item = find(outcome, metric, check="performance")
        assert item["status"] == "error"
        assert "Binary classification needs two labels, one of them the positive label '1'" in item["message"]
    assert find(outcome, "demographic_parity_difference", attribute="group")["status"] == "error"
    assert outcome.status in ("fail", "error")


def test_text_labels_work_with_a_positive_label(tmp_path):
    current = pa.table(
        {
            "outcome": ["yes", "no", "yes", "no", "yes", "no"],
            "predicted": ["yes", "yes", "no", "no", "yes", "no"],
            "p": [0.9, 0.6, 0.4, 0.2, 0.8, 0.3],
        }
    )
    spec = {
        "task": "binary_classification",
        "columns": {"target": "outcome", "prediction": "predicted", "score": "p"},
        "positive_label": "yes",
        "checks": [{"check": "performance", "metric": m} for m in ("precision", "recall", "roc_auc")],
    }
    outcome = run(tmp_path, current, current, spec)
    y_true = [value == "yes" for value in current.column("outcome").to_pylist()]
    y_pred = [value == "yes" for value in current.column("predicted").to_pylist()]
    assert find(outcome, "precision")["value"] == pytest.approx(metrics.precision_score(y_true, y_pred))
    assert find(outcome, "recall")["value"] == pytest.approx(metrics.recall_score(y_true, y_pred))
    assert find(outcome, "roc_auc")["value"] == pytest.approx(metrics.roc_auc_score(y_true, current.column("p")))


def test_boolean_labels_count_true_as_the_default_positive_label(tmp_path):
    current = pa.table({"y": [True, False, True, True], "p": [True, False, False, True]})
    spec = {
        "task": "binary_classification",
        "columns": {"target": "y", "prediction": "p"},
        "checks": [{"check": "performance", "metric": "recall"}],
    }
    assert find(run(tmp_path, current, current, spec), "recall")["value"] == pytest.approx(2 / 3)


def test_text_labels_without_a_positive_label_explain_what_to_set(tmp_path):
    current = pa.table({"y": ["yes", "no"], "p": ["no", "no"]})
    spec = {
        "task": "binary_classification",
        "columns": {"target": "y", "prediction": "p"},
        "checks": [{"check": "performance", "metric": "accuracy"}],
    }
    item = find(run(tmp_path, current, current, spec), "accuracy")
    assert item["status"] == "error"
    assert "'no', 'yes'" in item["message"]
    assert 'Set "positive_label"' in item["message"]


def test_a_positive_label_that_never_appears_is_said(tmp_path):
    current = pa.table({"y": [0, 0, 0], "p": [0, 0, 0]})
    spec = {
        "task": "binary_classification",
        "columns": {"target": "y", "prediction": "p"},
        "checks": [{"check": "performance", "metric": "accuracy"}],
    }
    item = find(run(tmp_path, current, current, spec), "accuracy")
    assert item["value"] == 1.0
    assert "The positive label '1' never appears" in item["message"]


def test_rows_with_a_missing_target_are_left_out_and_counted(tmp_path):
    current = pa.table({"y": [1, None, 0, 1, None], "s": [0.9, 0.5, 0.2, None, 0.1], "p": [1, 1, 0, 1, 0]})
    spec = {
        "task": "binary_classification",
        "columns": {"target": "y", "prediction": "p", "score": "s"},
        "checks": [{"check": "performance", "metric": "accuracy"}, {"check": "performance", "metric": "roc_auc"}],
    }
    outcome = run(tmp_path, current, current, spec)
    accuracy = find(outcome, "accuracy")
    assert accuracy["value"] == 1.0
    assert "2 rows without a target or a prediction were left out" in accuracy["message"]
    auc = find(outcome, "roc_auc")
    assert auc["value"] == 1.0  # rows 1 and 3 remain: 0.9 (positive) against 0.2 (negative)
    assert "3 rows without a target or a numeric score were left out" in auc["message"]


def test_a_single_class_target_makes_roc_auc_an_error_against_its_threshold(tmp_path):
    current = pa.table({"y": [1, 1, 1], "s": [0.2, 0.5, 0.9], "p": [1, 0, 1]})
    spec = {"task": "binary_classification", "columns": {"target": "y", "prediction": "p", "score": "s"}}
    outcome = run(tmp_path, current, current, spec)
    auc = find(outcome, "roc_auc")
    assert auc["value"] is None
    assert auc["status"] == "error"  # the standard suite requires a minimum, which cannot be shown
    assert "one class" in auc["message"]


def test_a_group_without_positives_reports_a_null_tpr_as_skipped(tmp_path):
    current = pa.table({"y": [1, 0, 1, 0, 0, 0], "p": [1, 0, 0, 1, 0, 1], "g": ["a", "a", "a", "a", "b", "b"]})
    spec = {"task": "binary_classification", "columns": {"target": "y", "prediction": "p", "sensitive": ["g"]}}
    outcome = run(tmp_path, current, current, spec)
    tpr = find(outcome, "tpr", attribute="g", group="b")
    assert tpr["value"] is None
    assert tpr["status"] == "skipped"
    assert find(outcome, "tpr", attribute="g", group="a")["value"] == 0.5


def test_regression_standard_suite_matches_scikit_learn(tmp_path):
    rng = np.random.default_rng(4)
    y = rng.normal(size=500)
    table = pa.table({"x": rng.normal(size=500), "y": y, "yhat": y + rng.normal(0, 0.5, 500)})
    outcome = run(tmp_path, table, table, {"task": "regression", "columns": {"target": "y", "prediction": "yhat"}})
    assert find(outcome, "mae")["value"] == pytest.approx(metrics.mean_absolute_error(y, table.column("yhat")))
    assert find(outcome, "rmse")["value"] == pytest.approx(metrics.root_mean_squared_error(y, table.column("yhat")))
    assert find(outcome, "r2")["value"] == pytest.approx(metrics.r2_score(y, table.column("yhat")))
    assert not [item for item in outcome.results if item["check"] == "fairness"]
    assert {item["column"] for item in outcome.results if item["check"] == "drift"} == {"x"}


def test_multiclass_standard_suite_matches_scikit_learn(tmp_path):
    current = pa.table({"y": ["cat", "dog", "bird", "dog", None], "p": ["cat", "cat", "bird", "dog", "dog"]})
    outcome = run(tmp_path, current, current, {"task": "multiclass", "columns": {"target": "y", "prediction": "p"}})
    y_true, y_pred = ["cat", "dog", "bird", "dog"], ["cat", "cat", "bird", "dog"]
    assert find(outcome, "accuracy")["value"] == pytest.approx(metrics.accuracy_score(y_true, y_pred))
    assert find(outcome, "macro_f1")["value"] == pytest.approx(metrics.f1_score(y_true, y_pred, average="macro"))


def test_multiclass_labels_written_as_integers_and_floats_are_the_same_classes(tmp_path):
    current = pa.table({"y": pa.array([1, 2, 3, 2], pa.int64()), "p": pa.array([1.0, 2.0, 2.0, 2.0])})
    outcome = run(tmp_path, current, current, {"task": "multiclass", "columns": {"target": "y", "prediction": "p"}})
    assert find(outcome, "accuracy")["value"] == 0.75


def test_a_named_column_missing_from_the_current_dataset_is_an_input_error(tmp_path, binary_files):
    reference, current = binary_files
    spec = {"task": "binary_classification", "columns": {**BINARY, "score": "probability"}}
    with pytest.raises(InputError) as caught:
        run(tmp_path, reference, current, spec)
    message = str(caught.value)
    assert message.startswith("Column 'probability' (columns.score) is not in the current dataset")
    assert "'y_score'" in message


def test_a_listed_feature_missing_from_the_reference_is_an_input_error(tmp_path, binary_files):
    reference, current = binary_files
    spec = {"task": "binary_classification", "columns": {**BINARY, "numeric": ["f0", "income"]}}
    with pytest.raises(InputError, match=r"Column 'income' \(columns.numeric\) is not in the reference dataset"):
        run(tmp_path, reference, current, spec)


def test_an_inferred_feature_missing_from_the_current_dataset_is_a_drift_error_and_a_schema_failure(
    tmp_path, binary_files
):
    reference, current = binary_files
    outcome = run(
        tmp_path, reference, current.drop_columns(["f1"]), {"task": "binary_classification", "columns": BINARY}
    )
    psi = find(outcome, "psi", column="f1")
    assert psi["status"] == "error"
    assert "'f1' is in the reference dataset but not in the current one" in psi["message"]
    schema = find(outcome, "schema")
    assert schema["status"] == "fail"
    assert "Missing from the current dataset: f1" in schema["message"]


def test_the_schema_can_be_given_in_the_suite(tmp_path, binary_files):
    reference, current = binary_files
    spec = {
        "task": "other",
        "columns": {},
        "schema": [*current.column_names, "extra"],
        "checks": [{"check": "quality", "metric": "schema"}],
    }
    schema = find(run(tmp_path, reference, current, spec), "schema")
    assert schema["status"] == "fail"
    assert schema["value"] == 1
    assert "Missing from the current dataset: extra" in schema["message"]


def test_range_and_missing_rate_checks_on_named_columns(tmp_path):
    current = pa.table({"age": [25, 130, -1, None, 40], "city": ["a", None, "b", "c", None]})
    spec = {
        "task": "other",
        "columns": {},
        "checks": [
            {"check": "quality", "metric": "range", "column": "age", "min": 0, "max": 120},
            {"check": "quality", "metric": "missing_rate", "column": "city", "max": 0.3},
            {"check": "quality", "metric": "missing_rate", "column": "age"},
        ],
    }
    outcome = run(tmp_path, current, current, spec)
    age_range = find(outcome, "range", column="age")
    assert age_range["value"] == 2
    assert age_range["status"] == "fail"
    assert age_range["threshold"] == {"min": 0, "max": 120}
    city = find(outcome, "missing_rate", column="city")
    assert city["value"] == 0.4
    assert city["status"] == "fail"
    assert find(outcome, "missing_rate", column="age")["threshold"] == {"max": 0.2, "warn_max": 0.05}


def test_a_range_on_a_column_the_current_dataset_lacks_is_an_input_error(tmp_path):
    current = pa.table({"age": [25]})
    spec = {
        "task": "other",
        "columns": {},
        "checks": [{"check": "quality", "metric": "range", "column": "agee", "max": 1}],
    }
    with pytest.raises(InputError, match="Column 'agee'"):
        run(tmp_path, current, current, spec)


def test_non_numeric_values_in_a_numeric_csv_column_are_left_out_and_counted(tmp_path):
    (tmp_path / "reference.csv").write_text("f0,c\n1.0,a\n2.0,b\n3.0,a\n4.0,b\n", encoding="utf-8")
    (tmp_path / "current.csv").write_text("f0,c\n1.5,a\nabc,b\n3.5,a\n,b\n", encoding="utf-8")
    spec = parse_spec({"task": "other", "columns": {"numeric": ["f0"], "categorical": ["c"]}})
    outcome = run_suite(tmp_path / "reference.csv", tmp_path / "current.csv", spec)
    psi = find(outcome, "psi", column="f0")
    assert "not numbers: 0 in the reference, 1 in the current dataset" in psi["message"]
    assert "missing: 0 in the reference, 1 in the current dataset" in psi["message"]
    expected = scipy_stats.ks_2samp([1.0, 2.0, 3.0, 4.0], [1.5, 3.5], method="asymp")
    assert find(outcome, "ks_statistic", column="f0")["value"] == pytest.approx(float(expected.statistic))
    assert find(outcome, "missing_rate", column="f0")["value"] == 0.25  # "abc" is a value, just not a number


def test_an_all_missing_column_gives_null_drift_and_a_failing_missing_rate(tmp_path):
    reference = pa.table({"f0": [1.0, 2.0, 3.0]})
    current = pa.table({"f0": pa.array([None, None, None], pa.float64())})
    outcome = run(tmp_path, reference, current, {"task": "other", "columns": {}})
    psi = find(outcome, "psi", column="f0")
    assert psi["value"] is None
    assert psi["status"] == "error"
    assert "the current dataset has no numeric values" in psi["message"]
    assert find(outcome, "missing_rate", column="f0")["status"] == "fail"


def test_empty_datasets_give_results_with_reasons_not_a_crash(tmp_path):
    (tmp_path / "reference.csv").write_text("f0,c,y_true,y_pred\n", encoding="utf-8")
    (tmp_path / "current.csv").write_text("f0,c,y_true,y_pred\n", encoding="utf-8")
    spec = parse_spec({"task": "binary_classification", "columns": {"target": "y_true", "prediction": "y_pred"}})
    outcome = run_suite(tmp_path / "reference.csv", tmp_path / "current.csv", spec)
    assert find(outcome, "row_count")["status"] == "fail"
    assert find(outcome, "accuracy")["value"] is None
    assert json.dumps(outcome.to_dict(), allow_nan=False)
    assert outcome.status == "fail"


def test_empty_parquet_datasets_give_results_with_reasons_not_a_crash(tmp_path):
    empty = pa.table({"f0": pa.array([], pa.float64()), "y": pa.array([], pa.int64()), "p": pa.array([], pa.int64())})
    outcome = run(
        tmp_path, empty, empty, {"task": "binary_classification", "columns": {"target": "y", "prediction": "p"}}
    )
    assert find(outcome, "psi", column="f0")["value"] is None
    assert find(outcome, "duplicate_rows")["value"] == 0


def test_documentation_completeness_against_the_tier(tmp_path, binary_files):
    reference, current = binary_files
    spec = {"task": "other", "columns": {}, "checks": [{"check": "documentation", "metric": "completeness"}]}
    missing = run(
        tmp_path,
        reference,
        current,
        spec,
        documentation=Documentation(completeness=0.75, missing_sections=["limitations", "monitoring plan"]),
    )
    item = find(missing, "completeness")
    assert item["status"] == "fail"
    assert item["threshold"] == {"min": 1.0}
    assert "Missing sections: limitations, monitoring plan" in item["message"]
    complete = run(tmp_path, reference, current, spec, documentation=Documentation(completeness=1.0))
    assert find(complete, "completeness")["status"] == "pass"
    absent = run(tmp_path, reference, current, spec)
    assert find(absent, "completeness")["status"] == "skipped"


def test_integrity_hashes_the_artifact_and_never_unpickles_it(tmp_path, binary_files):
    reference, current = binary_files

    class Trap:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "unpickled",))

    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(pickle.dumps(Trap()))
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    spec = {"task": "other", "columns": {}, "checks": [{"check": "integrity", "metric": "sha256"}]}

    matching = run(tmp_path, reference, current, spec, artifact=Artifact(path=artifact, expected_sha256=digest.upper()))
    item = find(matching, "sha256")
    assert item["status"] == "pass"
    assert item["value"] == digest
    assert not (tmp_path / "unpickled").exists()

    changed = run(tmp_path, reference, current, spec, artifact=Artifact(path=artifact, expected_sha256="0" * 64))
    assert find(changed, "sha256")["status"] == "fail"
    assert changed.status == "fail"

    unreachable = run(tmp_path, reference, current, spec, artifact=Artifact(path=None, expected_sha256=digest))
    assert find(unreachable, "sha256")["status"] == "skipped"
    assert "not reachable" in find(unreachable, "sha256")["message"]

    gone = run(
        tmp_path, reference, current, spec, artifact=Artifact(path=tmp_path / "gone.onnx", expected_sha256=digest)
    )
    assert find(gone, "sha256")["status"] == "error"


def test_explicit_ks_on_an_inferred_categorical_column_is_an_input_error(tmp_path, binary_files):
    reference, current = binary_files
    spec = {"task": "other", "columns": {}, "checks": [{"check": "drift", "metric": "ks_statistic", "column": "c0"}]}
    with pytest.raises(InputError, match="'c0' is categorical"):
        run(tmp_path, reference, current, spec)


def _hostile(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("current.csv", pickle.dumps({"model": [1, 2, 3]}), "This file is a Python pickle, not a CSV file."),
        ("current.csv", b"a,b\n1,\xff\xfe\n", "This file is not UTF-8 text"),
        ("current.csv", b"a,b\n1,2\x00\n", "contains NUL bytes"),
        ("current.csv", b"PK\x03\x04rest-of-a-zip", "This file is a ZIP archive, not a CSV file."),
        ("current.csv", b"", "The file is empty."),
        ("current.parquet", b"a,b\n1,2\n", "not a Parquet file"),
        ("current.txt", b"a,b\n1,2\n", "Upload a CSV (.csv) or Parquet (.parquet) file."),
    ],
)
def test_hostile_or_wrong_current_files_are_refused_with_a_reason(tmp_path, name, content, reason):
    reference = write(tmp_path, "reference.parquet", binary_table(50, seed=3))
    current = _hostile(tmp_path, name, content)
    with pytest.raises(InputError) as caught:
        run_suite(reference, current, parse_spec({"task": "other", "columns": {}}))
    assert reason in str(caught.value)
    assert str(caught.value).startswith(f"The current dataset ({name})")


def test_a_truncated_parquet_file_is_refused(tmp_path):
    good = write(tmp_path, "reference.parquet", binary_table(500, seed=3))
    truncated = _hostile(tmp_path, "current.parquet", good.read_bytes()[:-100])
    with pytest.raises(InputError, match="The Parquet file is damaged or incomplete"):
        run_suite(good, truncated, parse_spec({"task": "other", "columns": {}}))


def test_a_parquet_file_with_a_damaged_page_header_is_refused_when_read(tmp_path):
    good = write(tmp_path, "reference.parquet", binary_table(500, seed=3))
    data = bytearray(good.read_bytes())
    data[4:40] = b"\xff" * 36  # the first column's first page header; the footer stays intact
    damaged = _hostile(tmp_path, "current.parquet", bytes(data))
    with pytest.raises(InputError, match="damaged"):
        run_suite(good, damaged, parse_spec({"task": "other", "columns": {}}))


def test_a_missing_file_is_refused(tmp_path):
    reference = write(tmp_path, "reference.parquet", binary_table(50, seed=3))
    with pytest.raises(InputError, match=r"The reference dataset \(nowhere.csv\) does not exist"):
        run_suite(tmp_path / "nowhere.csv", reference, parse_spec({"task": "other", "columns": {}}))


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
