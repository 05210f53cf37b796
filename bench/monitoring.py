"""Benchmark the monitoring engine (#14): profiling speed, a year of windows, a 30-day drift report vs Evidently.

Not a test. Generates its data with bench/generate.py's rows (10 numeric + 2 categorical features, binary
target, score, prediction, a sensitive group), adds a prediction id and a timestamp per row, and measures:

1. profiling: profile_batch on each day's batch of a 30-day window (predictions Parquet + that day's
   outcomes Parquet joined by id, hourly buckets), one worker = this process with pyarrow limited to one
   thread; rows per second of wall time;
2. a year of daily windows: 365 daily profiles (stored bytes) read back and turned into the standard suite's
   results (everything but the raw metrics), and the same from 24 hourly profiles per day;
3. the drift report of a 30-day window (PSI of the 12 features, chi-square of the 2 categorical ones) from
   its 720 hourly profiles, against Evidently's DataDriftPreset(method="psi") on the same 30 days of rows
   (bench/monitoring_evidently.py in bench/.venv-evidently, its own process, wall time from outside), and
   PSI compared with Evidently given the same bins (each numeric value replaced by its reference bin,
   which Evidently's PSI then counts as categories; its own bins are Sturges histograms of both samples).

    .venv/bin/python bench/monitoring.py --rows 10000000              # the README's figures
    .venv/bin/python bench/monitoring.py --rows 300000 --skip-evidently  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from generate import CATEGORICAL, GROUPS, NUMERIC, PREDICTION, SCORE, SENSITIVE, TARGET, make_chunk  # noqa: E402

from apps.monitoring.engine import Profile, build_reference, profile_batch, window_results, window_series  # noqa: E402
from apps.monitoring.engine.reference import Reference  # noqa: E402
from apps.validation.engine import parse_spec  # noqa: E402

DAYS = 30
START = datetime(2026, 11, 1, tzinfo=UTC)
NOW = START + timedelta(days=366)
COLUMNS = {"target": TARGET, "prediction": PREDICTION, "score": SCORE, "sensitive": [SENSITIVE]}
STANDARD = {"task": "binary_classification", "columns": COLUMNS, "checks": "standard"}
DRIFT = {
    "task": "binary_classification",
    "columns": COLUMNS,
    "checks": [{"check": "drift", "metric": "psi"}, {"check": "drift", "metric": "chi2_pvalue"}],
}
EVIDENTLY_PYTHON = BENCH / ".venv-evidently" / "bin" / "python"
assert GROUPS  # the sensitive attribute's groups come from generate.py


def day_batch(day: int, rows: int, seed: int, *, start: datetime = START) -> tuple[Any, Any]:
    """One day of predictions (id, timestamp in time order, features, score, prediction, group) and its outcomes."""
    rng = np.random.default_rng([seed, day])
    table = make_chunk(rng, rows, current=True)
    ids = np.arange(rows, dtype=np.int64) + day * 10_000_000
    base = int((start + timedelta(days=day)).timestamp() * 1_000_000)
    micros = np.sort(rng.integers(0, 86_400_000_000, rows)) + base
    stamps = pa.array(micros, pa.timestamp("us", tz="UTC"))
    predictions = table.drop_columns([TARGET]).add_column(0, "prediction_id", pa.array(ids))
    predictions = predictions.add_column(1, "timestamp", stamps)
    labelled = rng.random(rows) < 0.9
    outcomes = pa.table({"prediction_id": ids[labelled], TARGET: table.column(TARGET).filter(pa.array(labelled))})
    return predictions, outcomes


def generate(folder: Path, rows: int, seed: int) -> dict[str, Any]:
    """Write the reference, 30 daily batches with their outcomes, and the window's rows for Evidently."""
    reference = pa.concat_tables(
        [make_chunk(np.random.default_rng([seed, 999, i]), 500_000, current=False) for i in range(2)]
    )
    pq.write_table(reference, folder / "reference.parquet")
    per_day = rows // DAYS
    writer = None
    for day in range(DAYS):
        predictions, outcomes = day_batch(day, per_day, seed)
        pq.write_table(predictions, folder / f"day-{day:02}.parquet")
        pq.write_table(outcomes, folder / f"outcomes-{day:02}.parquet")
        features = predictions.select([*NUMERIC, *CATEGORICAL])
        if writer is None:
            writer = pq.ParquetWriter(folder / "window.parquet", features.schema)
        writer.write_table(features)
    assert writer is not None
    writer.close()
    return {"reference_rows": reference.num_rows, "window_rows": per_day * DAYS, "rows_per_day": per_day}


def binned(source: Path, target: Path, reference: Reference) -> None:
    """Write `source` with each numeric feature replaced by its reference bin (NaN stays NaN), for Evidently."""
    table = pq.read_table(source, columns=[*NUMERIC, *CATEGORICAL])
    columns: dict[str, Any] = {}
    for name in NUMERIC:
        values = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        codes = np.searchsorted(reference.numeric[name].edges, values, side="left").astype(np.float64)
        codes[np.isnan(values)] = np.nan
        columns[name] = codes
    for name in CATEGORICAL:
        columns[name] = table.column(name)
    pq.write_table(pa.table(columns), target)


def measure_profiling(folder: Path, reference: Reference) -> tuple[dict[str, Any], list[bytes]]:
    stored: list[bytes] = []
    wall = 0.0
    cpu = 0.0
    rows = 0
    for day in range(DAYS):
        t0, c0 = time.perf_counter(), time.process_time()
        profiles = profile_batch(
            folder / f"day-{day:02}.parquet", reference, now=NOW, outcomes=[folder / f"outcomes-{day:02}.parquet"]
        )
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        rows += sum(p.rows for p in profiles)
        stored.extend(p.to_bytes() for p in profiles)
    figures = {"rows": rows, "wall_s": wall, "cpu_s": cpu, "rows_per_s": rows / wall, "rows_per_cpu_s": rows / cpu}
    return {**figures, "profiles": len(stored)}, stored


CPU: dict[str, float] = {}  # the median CPU seconds of the last timed() call of each function


def timed(function: Any, repeat: int) -> tuple[float, Any]:
    """Return the median wall seconds of `repeat` calls and the last result (CPU seconds go to CPU)."""
    times = []
    cpu = []
    result = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = function()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU[function.__name__] = statistics.median(cpu)
    return statistics.median(times), result


def measure_year(reference: Reference, rows_per_day: int, seed: int, repeat: int) -> dict[str, Any]:
    """Profile 365 small days (daily and hourly buckets), then time answering every daily window from bytes."""
    daily: list[bytes] = []
    hourly: list[list[bytes]] = []
    start = NOW - timedelta(days=365)
    for day in range(365):
        predictions, outcomes = day_batch(day, rows_per_day, seed + 1, start=start)
        daily.extend(
            p.to_bytes()
            for p in profile_batch(predictions, reference, now=NOW, outcomes=[outcomes], bucket_seconds=86_400)
        )
        hourly.append([p.to_bytes() for p in profile_batch(predictions, reference, now=NOW, outcomes=[outcomes])])

    def series_daily() -> Any:
        return window_series([[Profile.from_bytes(item)] for item in daily], reference)

    def series_hourly() -> Any:
        return window_series([[Profile.from_bytes(item) for item in day] for day in hourly], reference)

    def one_by_one() -> list[Any]:
        return [window_results([Profile.from_bytes(item)], reference) for item in daily]

    daily_s, series = timed(series_daily, repeat)
    hourly_s, hourly_series = timed(series_hourly, repeat)
    loop_s, answers = timed(one_by_one, 1)
    assert series.values == hourly_series.values  # the same windows whichever buckets they were summed from
    for index, results in enumerate(answers):  # and the same values and statuses as window_results
        found = {
            key: (values[index], statuses[index])
            for key, values, statuses in zip(series.keys, series.values, series.statuses, strict=True)
        }
        for item in results:
            key = (item["check"], item["metric"], item["column"], item["attribute"], item["group"])
            assert found[key] == (item["value"], item["status"]), key
    return {
        "windows": len(answers),
        "results_per_window": len(answers[0]),
        "series_daily_profiles_ms": daily_s * 1000,
        "series_hourly_profiles_ms": hourly_s * 1000,
        "series_daily_profiles_cpu_ms": CPU["series_daily"] * 1000,
        "series_hourly_profiles_cpu_ms": CPU["series_hourly"] * 1000,
        "window_results_one_by_one_ms": loop_s * 1000,
        "computed_one_by_one": series.computed_one_by_one,
        "profiles_hourly": sum(len(day) for day in hourly),
    }


def measure_drift(folder: Path, reference: Reference, stored: list[bytes], repeat: int) -> dict[str, Any]:
    spec = parse_spec(DRIFT)

    def report() -> list[dict[str, Any]]:
        return window_results([Profile.from_bytes(item) for item in stored], reference, spec)

    seconds, results = timed(report, repeat)
    psi = {r["column"]: r["value"] for r in results if r["metric"] == "psi"}
    return {"seconds": seconds, "cpu_seconds": CPU["report"], "results": len(results), "psi": psi}


def run_evidently(reference_path: Path, current_path: Path, output: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own script in our own venv
        [str(EVIDENTLY_PYTHON), str(BENCH / "monitoring_evidently.py"), "--reference", str(reference_path),
         "--current", str(current_path), "--output", str(output)],
        check=True, cwd=BENCH, env={**os.environ, "PYTHONPATH": str(BENCH)},
    )  # fmt: skip
    wall = time.perf_counter() - t0
    report = json.loads(output.read_text())
    report["wall_s"] = wall
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the 30-day window")
    parser.add_argument("--year-rows", type=int, default=20_000, help="rows per day of the 365-day year")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="pyarrow threads: 1 = one worker on one core")
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args()
    pa.set_cpu_count(args.threads)
    pa.set_io_thread_count(args.threads)
    figures: dict[str, Any] = {"started": datetime.now(UTC).isoformat(), "rows": args.rows, "threads": args.threads}
    figures["load_average_at_start"] = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="monitoring-bench-") as temporary:
        folder = Path(temporary)
        figures["data"] = generate(folder, args.rows, args.seed)
        reference = build_reference(folder / "reference.parquet", parse_spec(STANDARD))
        figures["profiling"], stored = measure_profiling(folder, reference)
        print("profiling:", json.dumps(figures["profiling"]), flush=True)
        figures["year"] = measure_year(reference, args.year_rows, args.seed, args.repeat)
        print("year:", json.dumps(figures["year"]), flush=True)
        drift = measure_drift(folder, reference, stored, args.repeat)
        figures["drift"] = {key: value for key, value in drift.items() if key != "psi"}
        print("drift from profiles:", json.dumps(figures["drift"]), flush=True)
        if not args.skip_evidently:
            evidently = run_evidently(folder / "reference.parquet", folder / "window.parquet", folder / "e1.json")
            binned(folder / "reference.parquet", folder / "reference-binned.parquet", reference)
            binned(folder / "window.parquet", folder / "window-binned.parquet", reference)
            same_bins = run_evidently(
                folder / "reference-binned.parquet", folder / "window-binned.parquet", folder / "e2.json"
            )
            differences = {name: abs(drift["psi"][name] - same_bins["psi"][name]) for name in drift["psi"]}
            figures["evidently"] = {
                "own_bins": {"wall_s": evidently["wall_s"], "phases": evidently["phases"]},
                "same_bins": {"wall_s": same_bins["wall_s"], "phases": same_bins["phases"]},
                "psi": {
                    name: [drift["psi"][name], same_bins["psi"][name], evidently["psi"][name]] for name in drift["psi"]
                },
                "largest_psi_difference_same_bins": max(differences.values()),
                "ratio_wall_own_bins": evidently["wall_s"] / drift["seconds"],
                "ratio_compute_own_bins": evidently["phases"]["compute_s"] / drift["seconds"],
                "ratio_wall_same_bins": same_bins["wall_s"] / drift["seconds"],
                "ratio_including_profiling": evidently["wall_s"] / (drift["seconds"] + figures["profiling"]["wall_s"]),
            }
            print("evidently:", json.dumps(figures["evidently"]), flush=True)
    args.out.mkdir(exist_ok=True)
    path = args.out / f"monitoring-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(figures, indent=2))
    print("written", path)


if __name__ == "__main__":
    main()
