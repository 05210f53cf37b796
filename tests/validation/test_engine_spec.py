"""Parsing a suite: valid JSON becomes a Spec, every mistake gets a sentence that says what to fix."""

from __future__ import annotations

import json

import pytest

from apps.validation.engine import SpecError, parse_spec
from apps.validation.engine.spec import Thresholds, standard_thresholds

BINARY_COLUMNS = {"target": "y_true", "prediction": "y_pred", "score": "y_score", "sensitive": ["group"]}


def suite(**overrides: object) -> dict:
    data: dict = {"task": "binary_classification", "columns": dict(BINARY_COLUMNS), "checks": "standard"}
    data.update(overrides)
    return data


def test_the_design_example_parses():
    spec = parse_spec(
        {
            "task": "binary_classification",
            "columns": {
                "target": "y_true",
                "prediction": "y_pred",
                "score": "y_score",
                "sensitive": ["group"],
                "numeric": ["f0", "f1"],
                "categorical": ["c0"],
            },
            "checks": [
                {"check": "performance", "metric": "roc_auc", "min": 0.7},
                {"check": "drift", "metric": "psi", "max": 0.2},
                {"check": "fairness", "metric": "demographic_parity_difference", "max": 0.1},
                {"check": "quality", "metric": "missing_rate", "max": 0.05},
            ],
        }
    )
    assert spec.checks is not None
    assert [check.metric for check in spec.checks] == [
        "roc_auc",
        "psi",
        "demographic_parity_difference",
        "missing_rate",
    ]
    assert spec.checks[0].thresholds == Thresholds(min=0.7)
    assert spec.columns.numeric == ("f0", "f1")
    assert spec.positive_label == 1


def test_a_suite_survives_a_round_trip_through_json():
    original = parse_spec(
        suite(
            checks=[
                {"check": "drift", "metric": "ks_statistic", "column": "f0", "warn_max": 0.05, "max": 0.1},
                {"check": "quality", "metric": "range", "column": "f0", "min": 0, "max": 1},
                {"check": "fairness", "metric": "tpr", "attribute": "group", "min": 0.5},
            ],
            positive_label="yes",
            schema=["y_true", "f0"],
        )
    )
    assert parse_spec(json.loads(json.dumps(original.to_dict()))) == original


def test_the_standard_suite_is_the_default_and_has_no_checks_until_the_data_is_known():
    spec = parse_spec({"task": "regression", "columns": {"target": "y", "prediction": "p"}})
    assert spec.standard
    assert spec.to_dict()["checks"] == "standard"


def test_default_thresholds_of_the_standard_suite():
    assert standard_thresholds("drift", "psi") == Thresholds(max=0.2, warn_max=0.1)
    assert standard_thresholds("fairness", "demographic_parity_ratio") == Thresholds(min=0.8)
    assert standard_thresholds("documentation", "completeness") == Thresholds(min=1.0)
    assert standard_thresholds("performance", "accuracy").empty


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "The suite must be a JSON object, not a list."),
        ({"columns": {}}, 'The suite needs a "task"'),
        (suite(task="clustering"), '"task" must be one of "binary_classification", "multiclass"'),
        (suite(colums={}), "Unknown key 'colums' in the suite"),
        (suite(columns={"target": "y", "targets": "z"}), "Unknown key 'targets' in \"columns\""),
        (suite(columns={"target": ""}), '"columns.target" must be a column name (a non-empty string)'),
        (suite(columns={"target": 3}), '"columns.target" must be a column name'),
        (suite(columns={"sensitive": "group"}), '"columns.sensitive" must be a list of column names'),
        (suite(columns={"numeric": ["f0", "f0"]}), '"columns.numeric" names "f0" more than once'),
        (suite(columns={"target": "y", "numeric": ["y"]}), "Column 'y' is mapped as both target and numeric"),
        (suite(checks="all"), '"checks" must be "standard" or a list of checks'),
        (suite(checks=[]), '"checks" is an empty list'),
        (suite(checks=["psi"]), 'checks[0] must be an object like {"check": "drift", "metric": "psi"}'),
        (suite(checks=[{"check": "speed", "metric": "psi"}]), 'checks[0]: "check" must be one of "performance"'),
        (suite(checks=[{"check": "drift", "metric": "kl"}]), '"metric" of a drift check must be one of "psi"'),
        (
            suite(checks=[{"check": "drift", "metric": "psi", "maximum": 0.2}]),
            "Unknown key 'maximum' in checks[0] (drift psi)",
        ),
        (
            suite(checks=[{"check": "drift", "metric": "psi", "max": "0.2"}]),
            'checks[0] (drift psi): "max" must be a finite number',
        ),
        (suite(checks=[{"check": "drift", "metric": "psi", "max": True}]), '"max" must be a finite number'),
        (
            suite(checks=[{"check": "performance", "metric": "roc_auc", "min": 0.9, "max": 0.8}]),
            '"min" (0.9) is greater than "max" (0.8)',
        ),
        (
            suite(checks=[{"check": "performance", "metric": "roc_auc", "min": 0.8, "warn_min": 0.7}]),
            '"min" (0.8) is greater than "warn_min" (0.7)',
        ),
        (
            suite(checks=[{"check": "performance", "metric": "mae"}]),
            "mae is not a performance metric of a binary_classification model",
        ),
        (
            suite(columns={"target": "y", "prediction": "p"}, checks=[{"check": "performance", "metric": "roc_auc"}]),
            'needs "columns.score", the column holding the probability of the positive class',
        ),
        (
            suite(columns={"prediction": "p"}, checks=[{"check": "performance", "metric": "accuracy"}]),
            'needs "columns.target"',
        ),
        (
            suite(task="regression", checks=[{"check": "fairness", "metric": "selection_rate"}]),
            "fairness checks need a binary_classification task, not regression",
        ),
        (
            suite(columns={"target": "y", "prediction": "p"}, checks=[{"check": "fairness", "metric": "count"}]),
            'needs "columns.sensitive"',
        ),
        (
            suite(checks=[{"check": "fairness", "metric": "tpr", "attribute": "age"}]),
            "attribute 'age' is not listed in \"columns.sensitive\"",
        ),
        (
            suite(checks=[{"check": "quality", "metric": "range", "min": 0}]),
            'name the "column" whose values must lie in the range',
        ),
        (
            suite(checks=[{"check": "quality", "metric": "range", "column": "f0"}]),
            'give the range\'s "min", "max" or both',
        ),
        (
            suite(checks=[{"check": "quality", "metric": "range", "column": "f0", "warn_max": 3}]),
            "Unknown key 'warn_max' in checks[0] (quality range)",
        ),
        (
            suite(checks=[{"check": "quality", "metric": "schema", "max": 0}]),
            "Unknown key 'max' in checks[0] (quality schema)",
        ),
        (
            suite(checks=[{"check": "drift", "metric": "psi", "column": "y_true"}]),
            "'y_true' is mapped as a target, prediction, score or sensitive column, not a feature",
        ),
        (
            suite(
                columns={"numeric": ["f0"], "categorical": ["c0"]},
                checks=[{"check": "drift", "metric": "ks_pvalue", "column": "c0"}],
            ),
            "'c0' is categorical; the Kolmogorov-Smirnov test needs a numeric column",
        ),
        (
            suite(
                columns={"numeric": ["f0"], "categorical": ["c0"]},
                checks=[{"check": "drift", "metric": "chi2_pvalue", "column": "f0"}],
            ),
            "'f0' is numeric; the chi-square test needs a categorical column",
        ),
        (
            suite(
                columns={"numeric": ["f0"], "categorical": ["c0"]},
                checks=[{"check": "drift", "metric": "psi", "column": "f9"}],
            ),
            '\'f9\' is not listed in "columns.numeric" or "columns.categorical"',
        ),
        (suite(positive_label=[1]), '"positive_label" must be a number, a string or true/false'),
        (suite(positive_label=""), '"positive_label" must not be empty'),
        (suite(schema="a,b"), '"schema" must be a list of column names'),
    ],
)
def test_each_mistake_in_a_suite_is_refused_with_a_readable_message(data, message):
    with pytest.raises(SpecError) as caught:
        parse_spec(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_huge_number_of_checks_is_refused():
    with pytest.raises(SpecError, match="at most 1,000 are allowed"):
        parse_spec(suite(checks=[{"check": "quality", "metric": "row_count"}] * 1001))


def test_positive_label_may_be_text_a_boolean_or_an_integral_number():
    assert parse_spec(suite(positive_label="churn")).positive_label == "churn"
    assert parse_spec(suite(positive_label=True)).positive_label is True
    assert parse_spec(suite(positive_label=1.0)).positive_label == 1
