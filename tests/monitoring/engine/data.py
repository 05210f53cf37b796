"""Monitoring data the tests generate: a reference, a window of predictions with drift, its outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from scipy import stats

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
WINDOW_START = datetime(2026, 12, 5, tzinfo=UTC)
BINARY_SPEC: dict[str, Any] = {
    "task": "binary_classification",
    "columns": {"target": "y_true", "prediction": "y_pred", "score": "y_score", "sensitive": ["group"]},
    "checks": "standard",
}


def features(rng: np.random.Generator, rows: int, shift: float) -> dict[str, Any]:
    """Four numeric and two categorical features; `shift` moves f0 and f2 and reweights c1."""
    f3 = rng.normal(0.0, 1.0, rows)
    f3[rng.random(rows) < 0.03] = np.nan  # missing values, left out of drift and counted
    c0 = rng.choice(np.array(["A", "B", "C", "D"]), size=rows, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    c0[rng.random(rows) < 0.02] = None
    weights = [0.5 - shift / 4, 0.3, 0.2 + shift / 4] if shift else [0.5, 0.3, 0.2]
    return {
        "f0": rng.normal(shift, 1.0, rows),
        "f1": rng.exponential(1.0, rows),
        "f2": rng.poisson(3.0 + 2 * shift, rows).astype(np.int64),  # ties: integers
        "f3": f3,
        "c0": pa.array(c0, pa.string()),
        "c1": rng.choice(np.array(["x", "y", "z"]), size=rows, p=weights),
    }


def labelled(rng: np.random.Generator, rows: int, shift: float) -> dict[str, Any]:
    columns = features(rng, rows, shift)
    group = rng.choice(np.array(["g1", "g2", "g10"]), size=rows, p=[0.5, 0.3, 0.2])
    logit = 0.8 * columns["f0"] - 0.5 * columns["f1"] + (group == "g2") * 0.7
    y_true = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    score = 1 / (1 + np.exp(-(logit + rng.normal(0, 1.0, rows))))
    score = np.round(score, 3)  # ties in the scores, as ROC AUC must handle
    columns.update(group=group, y_true=y_true, y_score=score, y_pred=(score >= 0.5).astype(np.int64))
    return columns


@dataclass
class Window:
    """A window's predictions (with id and timestamp), its outcomes, and the rows a validation run sees."""

    predictions: pa.Table
    outcomes: list[pa.Table]
    combined: pa.Table  # the window's rows: reference columns, final targets joined, no id or timestamp


def reference_table(seed: int, rows: int = 3000) -> pa.Table:
    return pa.table(labelled(np.random.default_rng(seed), rows, 0.0))


def window(seed: int, rows: int = 4000, shift: float = 0.6, labelled_share: float = 0.85) -> Window:
    """Predictions over two days with drift; outcomes for most of them in two files, some re-sent with a new label."""
    rng = np.random.default_rng(seed + 1000)
    columns = labelled(rng, rows, shift)
    ids = rng.permutation(rows).astype(np.int64) * 7 + 11
    seconds = np.sort(rng.integers(0, 2 * 86_400, rows))
    stamps = pa.array([WINDOW_START + timedelta(seconds=int(s)) for s in seconds], pa.timestamp("us", tz="UTC"))
    y_true = columns.pop("y_true")
    predictions = pa.table({"prediction_id": ids, "timestamp": stamps, **columns})
    has_outcome = rng.random(rows) < labelled_share
    order = rng.permutation(np.flatnonzero(has_outcome))
    half = order.shape[0] // 2
    first = order[:half]
    second = order[half:]
    # The first file also carries a wrong label for some ids of the second: the later file wins.
    resent = second[: second.shape[0] // 10]
    first_ids = np.concatenate([ids[first], ids[resent]])
    first_labels = np.concatenate([y_true[first], 1 - y_true[resent]])
    outcomes = [
        pa.table({"prediction_id": first_ids, "y_true": first_labels}),
        pa.table({"prediction_id": ids[second], "y_true": y_true[second]}),
    ]
    target = pa.array(np.where(has_outcome, y_true, 0), mask=~has_outcome)
    reference_names = reference_table(seed, 10).column_names
    data = {name: predictions.column(name) for name in predictions.column_names}
    data["y_true"] = target
    combined = pa.table({name: data[name] for name in reference_names})
    return Window(predictions, outcomes, combined)


def write(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def split(table: pa.Table, parts: int, seed: int) -> list[pa.Table]:
    """Split rows into `parts` batches of uneven sizes, rows dealt at random (not in time order)."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, parts, table.num_rows)
    return [table.filter(pa.array(which == part)) for part in range(parts)]


def sort_like(table: pa.Table) -> pa.Table:
    return table.take(pc.sort_indices(table, sort_keys=[("prediction_id", "ascending")]))


def write_csv(table: pa.Table, path: Path) -> Path:
    pa_csv.write_csv(table, path)
    return path


def task_table(task: str, rng: np.random.Generator, rows: int, shift: float) -> pa.Table:
    """Two numeric features, one categorical, and a multiclass or regression target and prediction."""
    f0 = rng.normal(shift, 1.0, rows)
    f1 = rng.gamma(2.0, 1.0 + shift, rows)
    c0 = rng.choice(np.array(["n", "s", "e", "w"]), size=rows)
    if task == "multiclass":
        classes = np.array(["cat", "dog", "fish", "bird"])
        y_true = classes[np.clip((f0 + 1.5).astype(int), 0, 3)]
        noisy = np.clip((f0 + rng.normal(0, 0.7, rows) + 1.5).astype(int), 0, 3)
        y_pred: Any = classes[noisy]
    else:
        y_true = 3.0 * f0 - f1 + rng.normal(0, 1.0, rows)
        y_pred = 2.8 * f0 - 0.9 * f1
    return pa.table({"f0": f0, "f1": f1, "c0": c0, "y_true": y_true, "y_pred": y_pred})


def task_window(task: str, rng: np.random.Generator, rows: int) -> Window:
    table = task_table(task, rng, rows, 0.4)
    ids = np.arange(rows, dtype=np.int64)
    seconds = rng.integers(0, 86_400, rows)
    stamps = pa.array([WINDOW_START + timedelta(seconds=int(s)) for s in seconds], pa.timestamp("us", tz="UTC"))
    has_outcome = rng.random(rows) < 0.9
    predictions = pa.table(
        {"prediction_id": ids, "timestamp": stamps, **{n: table.column(n) for n in ("f0", "f1", "c0", "y_pred")}}
    )
    outcomes = [pa.table({"prediction_id": ids[has_outcome], "y_true": table.column("y_true").filter(has_outcome)})]
    target = pc.if_else(pa.array(has_outcome), table.column("y_true"), pa.nulls(rows, table.column("y_true").type))
    combined = table.set_column(3, "y_true", target)
    return Window(predictions, outcomes, combined)


def ks_of(reference: Path, rows: pa.Table, column: str) -> float:
    """The KS statistic by scipy, of a column of the reference file and of `rows`."""
    ref = pq.read_table(reference, columns=[column]).column(0).to_numpy()
    cur = rows.column(column).to_numpy()
    return float(stats.ks_2samp(ref[~np.isnan(ref)], cur[~np.isnan(cur)], method="asymp").statistic)
