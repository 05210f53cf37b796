"""Performance metrics, defined as scikit-learn defines them, on numpy arrays.

Binary labels are booleans (True = the positive label) by the time they reach these functions;
which value is positive, and which rows are left out for missing values, is settled in labels.py.
Where scikit-learn returns 0 for an undefined ratio (precision without predicted positives, its
`zero_division` default) we return the same 0 and say so; where it refuses (ROC AUC with one
class, R² of one row) we return null with the reason.
"""

from __future__ import annotations

import numpy as np

from apps.validation.engine import stats
from apps.validation.engine.measure import Measure

_EPS = float(np.finfo(np.float64).eps)  # log loss clips probabilities to [eps, 1 - eps], as scikit-learn


def binary_label_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Measure]:
    """Return accuracy, precision, recall and F1 of boolean labels (positive = True)."""
    n = y_true.shape[0]
    tp = int(np.count_nonzero(y_true & y_pred))
    predicted = int(np.count_nonzero(y_pred))
    actual = int(np.count_nonzero(y_true))
    correct = n - int(np.count_nonzero(y_true ^ y_pred))
    return binary_count_metrics(n, tp, predicted, actual, correct)


def binary_count_metrics(n: int, tp: int, predicted: int, actual: int, correct: int) -> dict[str, Measure]:
    """Return accuracy, precision, recall and F1 from the confusion counts of n rows.

    `predicted` and `actual` count the positive predictions and targets, `correct` the rows where
    they agree: the counts of binary_label_metrics, which monitoring sums over batches.
    """
    if n == 0:
        none = Measure.undefined("no rows have both a target and a prediction")
        return dict.fromkeys(("accuracy", "precision", "recall", "f1"), none)
    return {
        "accuracy": Measure.number(correct / n),
        "precision": _ratio(tp, predicted, "no row is predicted positive"),
        "recall": _ratio(tp, actual, "no row is positive in the target"),
        # F1 = 2TP / (2TP + FP + FN) = 2TP / (predicted + actual), as scikit-learn computes it.
        "f1": _ratio(2 * tp, predicted + actual, "no row is positive in the target or the prediction"),
    }


def _ratio(numerator: int, denominator: int, why: str) -> Measure:
    if denominator == 0:
        return Measure(0.0, f"{why}, so the ratio is undefined; reported as 0 as scikit-learn does")
    return Measure.number(numerator / denominator)


def binary_score_metrics(y_true: np.ndarray, score: np.ndarray) -> dict[str, Measure]:
    """Return ROC AUC, log loss and Brier score of boolean labels against positive-class scores."""
    n = y_true.shape[0]
    if n == 0:
        none = Measure.undefined("no rows have both a target and a score")
        return dict.fromkeys(("roc_auc", "log_loss", "brier"), none)
    measures = {"roc_auc": roc_auc(y_true, score)}
    low, high = float(score.min()), float(score.max())
    if low < 0.0 or high > 1.0:
        outside = int(np.count_nonzero((score < 0.0) | (score > 1.0)))
        problem = Measure.unusable(
            f"{outside:,} scores lie outside [0, 1] (from {low:.4g} to {high:.4g}); "
            "log loss and the Brier score need probabilities"
        )
        measures["log_loss"] = problem
        measures["brier"] = problem
        return measures
    positive = score[y_true]
    negative = 1.0 - score[~y_true]
    loss = -(np.log(np.clip(positive, _EPS, 1 - _EPS)).sum() + np.log(np.clip(negative, _EPS, 1 - _EPS)).sum())
    measures["log_loss"] = Measure.number(float(loss) / n)
    measures["brier"] = Measure.number(float(np.mean((y_true.astype(np.float64) - score) ** 2)))
    return measures


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> Measure:
    """Return the area under the ROC curve, ties counted as half, as sklearn.metrics.roc_auc_score.

    The trapezoidal ROC area equals P(score of a positive > score of a negative) + P(tie) / 2,
    counted exactly in integers: for each positive, the negatives strictly below it plus those
    at or below it, halved.
    """
    positives = np.sort(score[y_true])
    negatives = np.sort(score[~y_true])
    if positives.shape[0] == 0 or negatives.shape[0] == 0:
        which = "positive" if positives.shape[0] == 0 else "negative"
        return Measure.undefined(f"the target has no {which} rows, so ROC AUC is undefined (one class only)")
    twice_wins = 0
    counted = 0  # positives already accounted for: each distinct score covers a run of them
    for at_or_below_own, at_or_below, below in stats.run_counts(positives, negatives, strictly_below=True):
        assert below is not None
        run_lengths = np.diff(at_or_below_own, prepend=counted)
        counted = int(at_or_below_own[-1])
        twice_wins += int(np.sum(run_lengths * (below + at_or_below), dtype=np.int64))
    return Measure.number(twice_wins / (2 * positives.shape[0] * negatives.shape[0]))


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Measure]:
    """Return MAE, RMSE and R² of float arrays."""
    n = y_true.shape[0]
    if n == 0:
        none = Measure.undefined("no rows have both a numeric target and a numeric prediction")
        return dict.fromkeys(("mae", "rmse", "r2"), none)
    errors = y_true - y_pred
    squared = float(np.sum(errors**2))
    measures = {
        "mae": Measure.number(float(np.mean(np.abs(errors)))),
        "rmse": Measure.number(float(np.sqrt(np.mean(errors**2)))),
    }
    if n < 2:
        measures["r2"] = Measure.undefined("R² needs at least two rows")
    elif float(y_true.min()) == float(y_true.max()):
        # A constant target has no variance to explain; scikit-learn's force_finite convention.
        value = 1.0 if squared == 0.0 else 0.0
        measures["r2"] = Measure(value, "the target is constant, so R² is 1 for perfect predictions and 0 otherwise")
    else:
        total = float(np.sum((y_true - np.mean(y_true)) ** 2))
        measures["r2"] = Measure.number(1.0 - squared / total)
    return measures


def multiclass_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> dict[str, Measure]:
    """Return accuracy and macro F1 of integer class codes in 0..classes-1.

    Macro F1 averages over the classes present in the target or the prediction, as scikit-learn.
    """
    hits = y_true == y_pred
    true_positives = np.bincount(y_true[hits], minlength=classes)
    actual = np.bincount(y_true, minlength=classes)
    predicted = np.bincount(y_pred, minlength=classes)
    return multiclass_count_metrics(true_positives, actual, predicted)


def multiclass_count_metrics(
    true_positives: np.ndarray, actual: np.ndarray, predicted: np.ndarray
) -> dict[str, Measure]:
    """Return accuracy and macro F1 from per-class counts (correct, in the target, in the prediction)."""
    n = int(actual.sum())
    if n == 0:
        none = Measure.undefined("no rows have both a target and a prediction")
        return {"accuracy": none, "macro_f1": none}
    present = (actual + predicted) > 0
    f1 = 2 * true_positives[present] / (actual[present] + predicted[present])
    return {
        "accuracy": Measure.number(int(true_positives.sum()) / n),
        "macro_f1": Measure.number(float(np.mean(f1))),
    }
