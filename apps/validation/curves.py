"""Points of the ROC curve drawn on the run page (the engine's results carry the AUC only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

MAX_POINTS = 200


def _read(path: Path, columns: list[str]) -> Any:
    if _is_parquet(path):
        return pq.read_table(path, columns=columns)
    return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(include_columns=columns))


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def roc_points(current: Path, spec: Any) -> list[list[float]] | None:
    """Return at most MAX_POINTS (false positive rate, true positive rate) pairs, or None when not binary."""
    columns = spec.columns
    if spec.task != "binary_classification" or not columns.target or not columns.score:
        return None
    try:
        table = _read(current, [columns.target, columns.score])
        target = table.column(columns.target)
        score = pc.cast(table.column(columns.score), pa.float64())
    except (pa.ArrowException, ValueError, KeyError, OSError):
        return None
    keep = pc.and_(pc.is_valid(target), pc.is_valid(score))
    labels = pc.filter(target, keep).to_numpy(zero_copy_only=False)
    scores = pc.filter(score, keep).to_numpy(zero_copy_only=False).astype(np.float64)
    finite = np.isfinite(scores)
    labels, scores = labels[finite], scores[finite]
    if labels.dtype.kind in "OUS":
        positive = labels.astype(str) == str(spec.positive_label)
    elif labels.dtype == bool:
        positive = labels == bool(spec.positive_label)
    else:
        positive = labels == spec.positive_label
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    sorted_scores, hits = scores[order], positive[order]
    # One point per distinct threshold, as sklearn's roc_curve before thinning.
    last_of_tie = np.r_[np.nonzero(np.diff(sorted_scores))[0], sorted_scores.size - 1]
    tps = np.cumsum(hits)[last_of_tie]
    fps = (last_of_tie + 1) - tps
    tpr, fpr = np.r_[0.0, tps / n_pos], np.r_[0.0, fps / n_neg]
    if tpr.size > MAX_POINTS:
        pick = np.unique(np.linspace(0, tpr.size - 1, MAX_POINTS).round().astype(int))
        tpr, fpr = tpr[pick], fpr[pick]
    return [[round(float(x), 5), round(float(y), 5)] for x, y in zip(fpr, tpr, strict=True)]
