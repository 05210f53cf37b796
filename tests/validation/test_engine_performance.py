"""Performance metrics equal scikit-learn's, including ties, constant columns and undefined cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics
from sklearn.exceptions import UndefinedMetricWarning

from apps.validation.engine import performance

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _binary_case(data):
    size = data.draw(st.integers(min_value=2, max_value=2_000), label="size")
    seed = data.draw(st.integers(min_value=0, max_value=2**32 - 1), label="seed")
    decimals = data.draw(st.sampled_from([0, 1, 2, 6, None]), label="score rounding")
    rng = np.random.default_rng(seed)
    y_true = rng.random(size) < data.draw(st.floats(min_value=0.05, max_value=0.95), label="base rate")
    score = np.clip(rng.normal(0.5 + 0.2 * (y_true - 0.5), 0.25), 0.0, 1.0)
    if decimals is not None:
        score = np.round(score, decimals)  # many ties in the scores
    y_pred = score >= 0.5
    return y_true, y_pred, score


@SETTINGS
@given(data=st.data())
def test_binary_label_metrics_match_scikit_learn(data):
    y_true, y_pred, _ = _binary_case(data)
    measures = performance.binary_label_metrics(y_true, y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero_division warnings; the value is what is compared
        expected = {
            "accuracy": metrics.accuracy_score(y_true, y_pred),
            "precision": metrics.precision_score(y_true, y_pred),
            "recall": metrics.recall_score(y_true, y_pred),
            "f1": metrics.f1_score(y_true, y_pred),
        }
    for name, value in expected.items():
        assert measures[name].value == pytest.approx(value, abs=1e-12), name


@SETTINGS
@given(data=st.data())
def test_binary_score_metrics_match_scikit_learn_with_tied_scores(data):
    y_true, _, score = _binary_case(data)
    measures = performance.binary_score_metrics(y_true, score)
    assert measures["log_loss"].value == pytest.approx(metrics.log_loss(y_true, score, labels=[0, 1]), abs=1e-9)
    assert measures["brier"].value == pytest.approx(metrics.brier_score_loss(y_true, score), abs=1e-12)
    if 0 < y_true.sum() < y_true.shape[0]:
        assert measures["roc_auc"].value == pytest.approx(metrics.roc_auc_score(y_true, score), abs=1e-12)


def test_roc_auc_counts_ties_as_half_like_scikit_learn():
    y_true = np.array([True, False, True, False, True, False])
    score = np.array([0.5, 0.5, 0.5, 0.2, 0.9, 0.9])
    assert performance.roc_auc(y_true, score).value == pytest.approx(metrics.roc_auc_score(y_true, score))
    assert performance.roc_auc(y_true, score).value == pytest.approx(11 / 18)  # 5.5 of 9 pairs


def test_roc_auc_matches_scikit_learn_on_a_million_rows_with_three_decimal_scores():
    rng = np.random.default_rng(11)
    y_true = rng.random(1_000_000) < 0.3
    score = np.round(np.clip(rng.normal(0.4 + 0.2 * y_true, 0.2), 0, 1), 3)
    assert performance.roc_auc(y_true, score).value == pytest.approx(metrics.roc_auc_score(y_true, score), abs=1e-12)


@pytest.mark.parametrize("single_class", [True, False])
def test_roc_auc_of_a_single_class_is_null_with_a_reason_where_scikit_learn_has_none(single_class):
    y_true = np.full(20, single_class)
    score = np.linspace(0, 1, 20)
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(metrics.roc_auc_score(y_true, score))
    measure = performance.roc_auc(y_true, score)
    assert measure.value is None
    assert "one class" in (measure.note or "")


def test_log_loss_of_a_single_class_is_computed_with_both_labels_declared():
    y_true = np.zeros(10, dtype=bool)
    score = np.linspace(0.05, 0.5, 10)
    expected = metrics.log_loss(y_true, score, labels=[0, 1])
    assert performance.binary_score_metrics(y_true, score)["log_loss"].value == pytest.approx(expected, abs=1e-12)


def test_log_loss_clips_certain_wrong_scores_like_scikit_learn():
    y_true = np.array([True, False, True])
    score = np.array([0.0, 1.0, 1.0])
    measure = performance.binary_score_metrics(y_true, score)["log_loss"]
    assert measure.value == pytest.approx(metrics.log_loss(y_true, score), abs=1e-9)


def test_precision_without_predicted_positives_is_zero_as_scikit_learn_says_so():
    y_true = np.array([True, False, True, False])
    y_pred = np.zeros(4, dtype=bool)
    measure = performance.binary_label_metrics(y_true, y_pred)["precision"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert measure.value == metrics.precision_score(y_true, y_pred) == 0.0
    assert "no row is predicted positive" in (measure.note or "")


def test_scores_outside_zero_one_are_an_error_for_probability_metrics_but_not_for_auc():
    y_true = np.array([True, False, True, False])
    score = np.array([2.5, -1.0, 0.7, 0.1])
    measures = performance.binary_score_metrics(y_true, score)
    assert measures["roc_auc"].value == pytest.approx(metrics.roc_auc_score(y_true, score))
    for name in ("log_loss", "brier"):
        assert measures[name].error
        assert measures[name].value is None
        assert "outside [0, 1]" in (measures[name].note or "")


def test_no_rows_give_null_metrics_with_a_reason():
    empty = np.array([], dtype=bool)
    for measure in performance.binary_label_metrics(empty, empty).values():
        assert measure.value is None
        assert measure.note
    for measure in performance.regression_metrics(np.array([]), np.array([])).values():
        assert measure.value is None


@SETTINGS
@given(
    size=st.integers(min_value=2, max_value=3_000),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    scale=st.floats(min_value=1e-3, max_value=1e6),
)
def test_regression_metrics_match_scikit_learn(size, seed, scale):
    rng = np.random.default_rng(seed)
    y_true = rng.normal(0, scale, size)
    y_pred = y_true + rng.normal(0, scale / 3, size)
    measures = performance.regression_metrics(y_true, y_pred)
    assert measures["mae"].value == pytest.approx(metrics.mean_absolute_error(y_true, y_pred), rel=1e-9)
    assert measures["rmse"].value == pytest.approx(metrics.root_mean_squared_error(y_true, y_pred), rel=1e-9)
    assert measures["r2"].value == pytest.approx(metrics.r2_score(y_true, y_pred), abs=1e-9)


@pytest.mark.parametrize(
    ("prediction", "expected"), [(np.array([4.0, 4.0, 4.0]), 1.0), (np.array([4.0, 5.0, 3.0]), 0.0)]
)
def test_r2_of_a_constant_target_follows_scikit_learn(prediction, expected):
    y_true = np.array([4.0, 4.0, 4.0])
    assert metrics.r2_score(y_true, prediction) == expected
    measure = performance.regression_metrics(y_true, prediction)["r2"]
    assert measure.value == expected
    assert "constant" in (measure.note or "")


def test_r2_of_one_row_is_null_where_scikit_learn_has_no_value():
    measure = performance.regression_metrics(np.array([1.0]), np.array([2.0]))["r2"]
    assert measure.value is None
    assert "two rows" in (measure.note or "")


@SETTINGS
@given(
    size=st.integers(min_value=1, max_value=2_000),
    classes=st.integers(min_value=2, max_value=12),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_multiclass_accuracy_and_macro_f1_match_scikit_learn(size, classes, seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, classes, size)
    y_pred = np.where(rng.random(size) < 0.6, y_true, rng.integers(0, classes + 2, size))  # classes only predicted
    measures = performance.multiclass_metrics(y_true, y_pred, classes + 2)
    assert measures["accuracy"].value == pytest.approx(metrics.accuracy_score(y_true, y_pred), abs=1e-12)
    assert measures["macro_f1"].value == pytest.approx(metrics.f1_score(y_true, y_pred, average="macro"), abs=1e-12)
