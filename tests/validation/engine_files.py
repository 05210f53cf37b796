"""Tables and files the engine tests run suites on, and how they read the results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from apps.validation.engine import SuiteResult, parse_spec, run_suite

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
