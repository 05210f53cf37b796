"""Fairness per group and per attribute equals fairlearn's, and undefined rates are null."""

from __future__ import annotations

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score

from apps.validation.engine.fairness import attribute_fairness
from apps.validation.engine.reader import to_groups

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fairness_of(groups: list, y_true: np.ndarray, y_pred: np.ndarray):
    codes, order = to_groups(pa.chunked_array([pa.array(groups)]))
    usable = np.ones(len(groups), dtype=bool)
    return attribute_fairness(codes, order, y_pred, y_true, usable)


def _case(data):
    size = data.draw(st.integers(min_value=1, max_value=2_000), label="size")
    seed = data.draw(st.integers(min_value=0, max_value=2**32 - 1), label="seed")
    count_groups = data.draw(st.integers(min_value=1, max_value=6), label="groups")
    rng = np.random.default_rng(seed)
    groups = [f"g{value}" for value in rng.integers(0, count_groups, size)]
    y_true = rng.random(size) < rng.uniform(0.1, 0.9)
    y_pred = np.where(rng.random(size) < 0.7, y_true, rng.random(size) < 0.5)
    return groups, y_true, y_pred


@SETTINGS
@given(data=st.data())
def test_group_metrics_match_fairlearn_metric_frame(data):
    groups, y_true, y_pred = _case(data)
    frame = MetricFrame(
        metrics={
            "count": count,
            "selection_rate": selection_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
            "accuracy": accuracy_score,
        },
        y_true=y_true.astype(int),
        y_pred=y_pred.astype(int),
        sensitive_features=groups,
    )
    result = fairness_of(groups, y_true, y_pred)
    assert [group.group for group in result.groups] == list(frame.by_group.index)
    for group in result.groups:
        expected = frame.by_group.loc[group.group]
        for metric in ("count", "selection_rate", "accuracy"):
            assert group.measures[metric].value == pytest.approx(float(expected[metric]), abs=1e-12), metric
        for metric in ("tpr", "fpr"):
            if group.measures[metric].value is not None:  # fairlearn reports 0 where the rate is undefined
                assert group.measures[metric].value == pytest.approx(float(expected[metric]), abs=1e-12), metric


@SETTINGS
@given(data=st.data())
def test_attribute_metrics_match_fairlearn_between_groups(data):
    groups, y_true, y_pred = _case(data)
    result = fairness_of(groups, y_true, y_pred)
    kwargs = {"y_true": y_true.astype(int), "y_pred": y_pred.astype(int), "sensitive_features": groups}
    assert result.measures["demographic_parity_difference"].value == pytest.approx(
        demographic_parity_difference(**kwargs), abs=1e-12
    )
    ratio = demographic_parity_ratio(**kwargs)
    if np.isnan(ratio):
        assert result.measures["demographic_parity_ratio"].value is None
    else:
        assert result.measures["demographic_parity_ratio"].value == pytest.approx(ratio, abs=1e-12)
    every_rate_defined = all(
        group.measures["tpr"].value is not None and group.measures["fpr"].value is not None for group in result.groups
    )
    if every_rate_defined:  # otherwise fairlearn counts an undefined rate as 0 and we leave the group out
        assert result.measures["equalized_odds_difference"].value == pytest.approx(
            equalized_odds_difference(**kwargs), abs=1e-12
        )


def test_a_group_without_positives_has_a_null_tpr_and_is_left_out_of_equalized_odds():
    groups = ["a", "a", "a", "a", "b", "b", "b"]
    y_true = np.array([True, True, False, False, False, False, False])
    y_pred = np.array([True, False, False, True, True, False, False])
    result = fairness_of(groups, y_true, y_pred)
    by_name = {group.group: group.measures for group in result.groups}
    assert by_name["b"]["tpr"].value is None
    assert "no positive rows" in (by_name["b"]["tpr"].note or "")
    assert by_name["b"]["fpr"].value == pytest.approx(1 / 3)
    # TPR spread: only group a has one (0.5); FPR spread: |1/2 - 1/3|.
    assert result.measures["equalized_odds_difference"].value == pytest.approx(1 / 2 - 1 / 3)
    assert "left out of the TPR spread (no positive rows): b" in (
        result.measures["equalized_odds_difference"].note or ""
    )


def test_a_group_without_negatives_has_a_null_fpr():
    groups = ["a", "a", "b", "b"]
    y_true = np.array([True, False, True, True])
    y_pred = np.array([True, True, False, True])
    result = fairness_of(groups, y_true, y_pred)
    by_name = {group.group: group.measures for group in result.groups}
    assert by_name["b"]["fpr"].value is None
    assert by_name["b"]["tpr"].value == pytest.approx(0.5)


def test_no_positive_prediction_anywhere_makes_the_parity_ratio_null_like_fairlearn():
    groups = ["a", "b", "a", "b"]
    y_true = np.array([True, False, True, False])
    y_pred = np.zeros(4, dtype=bool)
    result = fairness_of(groups, y_true, y_pred)
    assert np.isnan(demographic_parity_ratio(y_true, y_pred, sensitive_features=groups))
    assert result.measures["demographic_parity_ratio"].value is None
    assert result.measures["demographic_parity_difference"].value == 0.0


def test_rows_without_a_group_value_are_left_out_and_counted():
    codes, order = to_groups(pa.chunked_array([pa.array(["a", None, "b", "a"])]))
    y_true = np.array([True, True, False, False])
    y_pred = np.array([True, False, False, True])
    result = attribute_fairness(codes, order, y_pred, y_true, np.ones(4, dtype=bool))
    assert [group.group for group in result.groups] == ["a", "b"]
    assert result.groups[0].measures["count"].value == 2
    assert "1 row without a value for the attribute" in (result.groups[0].measures["count"].note or "")


def test_groups_without_usable_rows_are_not_reported_and_numbers_sort_naturally():
    codes, order = to_groups(pa.chunked_array([pa.array([10, 2, 2, 10, 3])]))
    usable = np.array([True, True, True, True, False])  # group 3 has only a row without labels
    y = np.array([True, False, True, False, True])
    result = attribute_fairness(codes, order, y, y, usable)
    assert [group.group for group in result.groups] == ["2", "10"]


def test_without_any_usable_row_attribute_metrics_are_null_with_a_reason():
    codes, order = to_groups(pa.chunked_array([pa.array(["a", "b"])]))
    result = attribute_fairness(codes, order, np.array([True, False]), None, np.zeros(2, dtype=bool))
    assert result.groups == []
    assert result.measures["demographic_parity_difference"].value is None
    assert "no row has both labels" in (result.measures["demographic_parity_difference"].note or "")
    assert "equalized_odds_difference" not in result.measures  # needs the target
