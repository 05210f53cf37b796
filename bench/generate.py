"""Generate the benchmark's reference and current Parquet files and the suite files that use them.

Seeded and chunked: each chunk of rows draws from its own generator seeded by (seed, dataset, chunk), so
the files are the same on every machine for the same --rows/--seed/--chunk-rows, and memory stays at a
few hundred MB whatever --rows is (10,000,000 rows per file generate fine).

    python bench/generate.py --rows 1000000 --seed 42 --out bench/data/1m

Columns: f0..f9 numeric (mixed distributions, f9 with 1% nulls; current shifted on f1, f3, f5, f8),
c0 and c1 categorical strings (current c0 has an unseen category "F"), y_true binary target,
y_score probability of the positive class (correlated with y_true), y_pred = y_score >= 0.5, and group,
a 4-group sensitive attribute (g0..g3, unbalanced, with different base rates and model quality).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NUMERIC = [f"f{i}" for i in range(10)]
CATEGORICAL = ["c0", "c1"]
TARGET = "y_true"
PREDICTION = "y_pred"
SCORE = "y_score"
SENSITIVE = "group"

C0_REFERENCE = ["A", "B", "C", "D", "E"]
C0_CURRENT = ["A", "B", "C", "D", "E", "F"]  # "F" never appears in the reference
C1_VALUES = ["north", "south", "east", "west"]
GROUPS = ["g0", "g1", "g2", "g3"]

SCHEMA = pa.schema(
    [*((name, pa.float64()) for name in NUMERIC)]
    + [(name, pa.string()) for name in CATEGORICAL]
    + [
        (TARGET, pa.int64()),
        (PREDICTION, pa.int64()),
        (SCORE, pa.float64()),
        (SENSITIVE, pa.string()),
    ]
)


def _strings(rng: np.random.Generator, values: list[str], probabilities: list[float], n: int) -> pa.Array:
    """n strings drawn from values: a dictionary array cast to plain strings (what a CSV export would hold)."""
    indices = rng.choice(len(values), size=n, p=probabilities).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(indices), pa.array(values)).cast(pa.string())


def make_chunk(rng: np.random.Generator, n: int, *, current: bool) -> pa.Table:
    """One chunk of n rows; current=True applies the drifts."""
    shift = 1.0 if current else 0.0
    f = {
        "f0": rng.standard_normal(n),
        "f1": rng.normal(5.0 + 0.15 * shift, 2.0, n),  # small mean shift
        "f2": rng.lognormal(0.0, 0.75, n),
        "f3": rng.exponential(1.0 + 0.25 * shift, n),  # scale shift
        "f4": rng.uniform(-1.0, 1.0, n),
        "f5": rng.gamma(2.0 + 0.5 * shift, 1.5, n),  # shape shift
        "f6": rng.poisson(3.0, n).astype(np.float64),  # discrete values, many ties
        "f7": rng.beta(2.0, 5.0, n),
        "f8": rng.standard_t(5, n) + 0.05 * shift,  # heavy tails, tiny shift
        "f9": np.where(rng.random(n) < 0.3, rng.normal(-2.0, 0.5, n), rng.normal(2.0, 1.0, n)),  # bimodal
    }
    group_p = [0.4, 0.3, 0.2, 0.1] if not current else [0.35, 0.3, 0.2, 0.15]
    group_idx = rng.choice(len(GROUPS), size=n, p=group_p)
    group = pa.DictionaryArray.from_arrays(pa.array(group_idx.astype(np.int32)), pa.array(GROUPS)).cast(pa.string())
    c0 = (
        _strings(rng, C0_CURRENT, [0.28, 0.24, 0.2, 0.15, 0.11, 0.02], n)
        if current
        else _strings(rng, C0_REFERENCE, [0.3, 0.25, 0.2, 0.15, 0.1], n)
    )
    c1 = _strings(rng, C1_VALUES, [0.25, 0.25, 0.3, 0.2] if current else [0.25, 0.25, 0.25, 0.25], n)

    # The true outcome: a logistic model of some features plus a group effect (different base rates).
    group_bias = np.array([0.0, -0.3, 0.25, -0.6])[group_idx]
    logit = (
        0.9 * f["f0"]
        + 0.35 * (f["f1"] - 5.0)
        - 0.5 * (f["f3"] - 1.0)
        + 0.8 * f["f4"]
        + 0.3 * np.tanh(f["f9"])
        + group_bias
        - 0.2
    )
    y_true = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    # The model's score: the true logit seen through noise that is larger for the smaller groups.
    noise_sd = np.array([0.6, 0.8, 1.0, 1.3])[group_idx]
    y_score = 1.0 / (1.0 + np.exp(-(logit + rng.normal(0.0, 1.0, n) * noise_sd)))
    y_pred = (y_score >= 0.5).astype(np.int64)

    f9_missing = rng.random(n) < 0.01
    columns: dict[str, pa.Array] = {name: pa.array(values) for name, values in f.items()}
    columns["f9"] = pa.array(f["f9"], mask=f9_missing)
    columns["c0"] = c0
    columns["c1"] = c1
    columns[TARGET] = pa.array(y_true)
    columns[PREDICTION] = pa.array(y_pred)
    columns[SCORE] = pa.array(y_score)
    columns[SENSITIVE] = group
    return pa.Table.from_pydict(columns, schema=SCHEMA)


def write_dataset(path: Path, rows: int, seed: int, *, current: bool, chunk_rows: int) -> None:
    """Write rows rows to path, chunk by chunk (one Parquet row group per chunk)."""
    tmp = path.with_suffix(".parquet.tmp")
    with pq.ParquetWriter(tmp, SCHEMA, compression="snappy") as writer:
        for index, start in enumerate(range(0, rows, chunk_rows)):
            n = min(chunk_rows, rows - start)
            rng = np.random.default_rng([seed, 1 if current else 0, index])
            writer.write_table(make_chunk(rng, n, current=current), row_group_size=n)
    tmp.replace(path)


def suites() -> dict[str, dict[str, Any]]:
    """The suite files (DESIGN.md section 6): the whole standard suite, and the fairness part alone."""
    columns = {
        "target": TARGET,
        "prediction": PREDICTION,
        "score": SCORE,
        "sensitive": [SENSITIVE],
        "numeric": NUMERIC,
        "categorical": CATEGORICAL,
    }
    fairness_columns = {"target": TARGET, "prediction": PREDICTION, "sensitive": [SENSITIVE]}
    per_group = ["count", "selection_rate", "tpr", "fpr", "accuracy"]
    fairness_checks: list[dict[str, Any]] = [{"check": "fairness", "metric": metric} for metric in per_group]
    fairness_checks += [
        # the standard suite's limits (apps/validation/engine/spec.py STANDARD_THRESHOLDS)
        {"check": "fairness", "metric": "demographic_parity_difference", "max": 0.1, "warn_max": 0.05},
        {"check": "fairness", "metric": "demographic_parity_ratio", "min": 0.8},
        {"check": "fairness", "metric": "equalized_odds_difference", "max": 0.1, "warn_max": 0.05},
    ]
    return {
        "standard.json": {"task": "binary_classification", "columns": columns, "checks": "standard"},
        "fairness.json": {"task": "binary_classification", "columns": fairness_columns, "checks": fairness_checks},
    }


def generate(out: Path, rows: int, seed: int, chunk_rows: int) -> dict[str, Any]:
    """Write reference.parquet, current.parquet, standard.json, fairness.json and meta.json to out."""
    out.mkdir(parents=True, exist_ok=True)
    meta = {"rows": rows, "seed": seed, "chunk_rows": chunk_rows}
    for name, suite in suites().items():  # always rewritten: cheap, and never stale
        (out / name).write_text(json.dumps(suite, indent=2) + "\n")
    meta_path = out / "meta.json"
    done = all((out / name).exists() for name in ("reference.parquet", "current.parquet"))
    if done and meta_path.exists() and json.loads(meta_path.read_text()) == meta:
        return meta  # already there, same parameters
    meta_path.unlink(missing_ok=True)
    for current in (False, True):
        write_dataset(
            out / ("current.parquet" if current else "reference.parquet"),
            rows,
            seed,
            current=current,
            chunk_rows=chunk_rows,
        )
    meta_path.write_text(json.dumps(meta) + "\n")
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in each file (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data" / "1m")
    parser.add_argument("--chunk-rows", type=int, default=500_000, help="rows generated at a time")
    args = parser.parse_args()
    if args.rows < 1 or args.chunk_rows < 1:
        parser.error("--rows and --chunk-rows must be positive")
    started = time.perf_counter()
    generate(args.out, args.rows, args.seed, args.chunk_rows)
    sizes = {p.name: p.stat().st_size for p in sorted(args.out.glob("*.parquet"))}
    print(
        json.dumps({"out": str(args.out), "rows": args.rows, "seconds": round(time.perf_counter() - started, 2)})
        + "\n"
        + json.dumps(sizes)
    )


if __name__ == "__main__":
    main()
