"""A window's metric values against SciPy, scikit-learn and the definitions written out in numpy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats
from sklearn import metrics

from apps.monitoring.engine import RawWindow, build_reference, profile_batch, window_results
from apps.validation.engine import parse_spec
from tests.monitoring.engine import data


def value(results: list[dict[str, Any]], metric: str, **where: str) -> Any:
    found = [r for r in results if r["metric"] == metric and all(r[k] == v for k, v in where.items())]
    assert len(found) == 1, (metric, where)
    return found[0]["value"]


def psi_by_definition(reference: np.ndarray, current: np.ndarray) -> float:
    """DESIGN section 6 written out: bins at the reference's unique deciles, v in bin (#edges < v)."""
    reference, current = reference[~np.isnan(reference)], current[~np.isnan(current)]
    edges = np.unique(np.quantile(reference, np.arange(1, 10) / 10))
    ref = np.bincount(np.searchsorted(edges, reference, side="left"), minlength=edges.size + 1) / reference.size
    cur = np.bincount(np.searchsorted(edges, current, side="left"), minlength=edges.size + 1) / current.size
    ref, cur = np.where(ref == 0, 1e-4, ref), np.where(cur == 0, 1e-4, cur)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@pytest.fixture(scope="module")
def window_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Any, Any]:
    tmp = tmp_path_factory.mktemp("reference-values")
    reference_path = data.write(data.reference_table(21), tmp / "reference.parquet")
    window = data.window(21, shift=0.8)
    reference = build_reference(reference_path, parse_spec(data.BINARY_SPEC))
    outcomes = [data.write(t, tmp / f"outcomes-{i}.parquet") for i, t in enumerate(window.outcomes)]
    batches = [data.write(t, tmp / f"batch-{i}.parquet") for i, t in enumerate(data.split(window.predictions, 6, 21))]
    profiles = [p for b in batches for p in profile_batch(b, reference, now=data.NOW, outcomes=outcomes)]
    results = window_results(profiles, reference, raw=RawWindow(reference_path, batches, outcomes))
    return results, pq.read_table(reference_path).to_pandas(), window.combined.to_pandas()


def test_drift_matches_scipy_and_the_psi_definition(window_case: tuple[list[dict[str, Any]], Any, Any]) -> None:
    results, reference, current = window_case
    for column in ("f0", "f1", "f2", "f3"):
        ref, cur = reference[column].to_numpy(float), current[column].to_numpy(float)
        assert value(results, "psi", column=column) == pytest.approx(psi_by_definition(ref, cur), abs=1e-12)
        expected = stats.ks_2samp(ref[~np.isnan(ref)], cur[~np.isnan(cur)], method="asymp")
        assert value(results, "ks_statistic", column=column) == pytest.approx(expected.statistic, abs=1e-12)
        assert value(results, "ks_pvalue", column=column) == pytest.approx(expected.pvalue, abs=1e-6)
    for column in ("c0", "c1"):
        ref_counts = reference[column].value_counts()
        cur_counts = current[column].value_counts()
        categories = sorted(set(ref_counts.index) | set(cur_counts.index))
        table = np.array([[counts.get(k, 0) for k in categories] for counts in (ref_counts, cur_counts)])
        expected_p = stats.chi2_contingency(table, correction=False).pvalue
        assert value(results, "chi2_pvalue", column=column) == pytest.approx(expected_p, abs=1e-9)
        shares = table / table.sum(axis=1, keepdims=True)
        shares = np.where(shares == 0, 1e-4, shares)
        expected_psi = float(np.sum((shares[1] - shares[0]) * np.log(shares[1] / shares[0])))
        assert value(results, "psi", column=column) == pytest.approx(expected_psi, abs=1e-12)


def test_performance_matches_scikit_learn_on_the_labelled_rows(
    window_case: tuple[list[dict[str, Any]], Any, Any],
) -> None:
    results, _, current = window_case
    rows = current[current["y_true"].notna()]
    y_true = rows["y_true"].to_numpy(int)
    y_pred, y_score = rows["y_pred"].to_numpy(int), rows["y_score"].to_numpy(float)
    assert value(results, "accuracy", check="performance") == pytest.approx(
        metrics.accuracy_score(y_true, y_pred), abs=1e-12
    )
    assert value(results, "precision") == pytest.approx(metrics.precision_score(y_true, y_pred), abs=1e-12)
    assert value(results, "recall") == pytest.approx(metrics.recall_score(y_true, y_pred), abs=1e-12)
    assert value(results, "f1") == pytest.approx(metrics.f1_score(y_true, y_pred), abs=1e-12)
    assert value(results, "roc_auc") == pytest.approx(metrics.roc_auc_score(y_true, y_score), abs=1e-12)
    assert value(results, "log_loss") == pytest.approx(metrics.log_loss(y_true, y_score), abs=1e-9)
    assert value(results, "brier") == pytest.approx(metrics.brier_score_loss(y_true, y_score), abs=1e-12)


def test_fairness_matches_the_rates_counted_by_hand(window_case: tuple[list[dict[str, Any]], Any, Any]) -> None:
    results, _, current = window_case
    rows = current[current["y_true"].notna()]
    rates = {}
    for group, part in rows.groupby("group"):
        y_true, y_pred = part["y_true"].to_numpy(int), part["y_pred"].to_numpy(int)
        rates[group] = y_pred.mean()
        assert value(results, "count", group=group) == len(part)
        assert value(results, "selection_rate", group=group) == pytest.approx(y_pred.mean(), abs=1e-12)
        assert value(results, "tpr", group=group) == pytest.approx(metrics.recall_score(y_true, y_pred), abs=1e-12)
        assert value(results, "fpr", group=group) == pytest.approx(y_pred[y_true == 0].mean(), abs=1e-12)
    difference = max(rates.values()) - min(rates.values())
    assert value(results, "demographic_parity_difference") == pytest.approx(difference, abs=1e-12)
    groups = [r["group"] for r in results if r["metric"] == "count"]
    assert groups == ["g1", "g10", "g2"]  # text groups in code point order, as validation reports them
