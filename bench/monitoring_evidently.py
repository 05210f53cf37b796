"""One measured Evidently drift report for the monitoring bench: PSI of every feature, window against reference.

Runs in bench/.venv-evidently (Evidently 0.7 needs pandas<3); bench/monitoring.py starts it in its own
process and measures its wall time from outside. Writes each column's PSI and the phase times to --output.

    bench/.venv-evidently/bin/python bench/monitoring_evidently.py --reference r.parquet --current w.parquet \
        --output /tmp/e.json
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402  (imports are timed from STARTED)
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("DO_NOT_TRACK", "1")  # no telemetry call from a benchmark

import pandas as pd  # noqa: E402
from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402
from generate import CATEGORICAL, NUMERIC  # noqa: E402

IMPORTED = time.perf_counter()


def run(reference_path: Path, current_path: Path) -> dict[str, object]:
    phases = {"import_s": IMPORTED - STARTED}
    t = time.perf_counter()
    columns = [*NUMERIC, *CATEGORICAL]
    reference = pd.read_parquet(reference_path, columns=columns)
    current = pd.read_parquet(current_path, columns=columns)
    phases["read_s"] = time.perf_counter() - t
    t = time.perf_counter()
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    reference_ds = Dataset.from_pandas(reference, data_definition=definition)
    current_ds = Dataset.from_pandas(current, data_definition=definition)
    report = Report([DataDriftPreset(columns=columns, method="psi")]).run(current_ds, reference_ds)
    exported = report.dict()
    phases["compute_s"] = time.perf_counter() - t
    psi: dict[str, float] = {}
    for metric in exported["metrics"]:
        config = metric.get("config", {})
        column = config.get("column")
        if column in columns and isinstance(metric.get("value"), int | float):
            psi[column] = float(metric["value"])
    return {"phases": phases, "psi": psi, "rows": len(current)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--current", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    report = run(args.reference, args.current)
    report["phases"]["total_in_process_s"] = time.perf_counter() - STARTED  # type: ignore[index]
    args.output.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
