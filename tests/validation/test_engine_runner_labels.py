"""Running a suite on files: binary, text and boolean labels, missing targets, each task's metrics."""

from __future__ import annotations

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pytest
from sklearn import metrics

from tests.validation.engine_files import BINARY, find, run


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
