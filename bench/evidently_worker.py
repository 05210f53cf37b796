"""One measured Evidently run: read both Parquet files with pandas, run DataDriftPreset and ClassificationPreset.

Runs in bench/.venv-evidently (Evidently 0.7 needs pandas<3); bench/run.py starts it in its own process and
measures that process's wall time and peak RSS from outside. This script also times its own phases
(imports, read, dataset build, each preset, JSON export) and writes them to --phases.

    bench/.venv-evidently/bin/python bench/evidently_worker.py --data bench/data/1m --phases /tmp/p.json
"""

from __future__ import annotations

import time
from importlib.metadata import version

STARTED = time.perf_counter()

import argparse  # noqa: E402  (imports are timed from STARTED)
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

os.environ.setdefault("DO_NOT_TRACK", "1")  # no telemetry call from a benchmark

import pandas as pd  # noqa: E402
from evidently import BinaryClassification, DataDefinition, Dataset, Report  # noqa: E402
from evidently.presets import ClassificationPreset, DataDriftPreset  # noqa: E402
from generate import CATEGORICAL, NUMERIC, PREDICTION, SCORE, SENSITIVE, TARGET  # noqa: E402

IMPORTED = time.perf_counter()


def definition() -> DataDefinition:
    """The same column mapping as standard.json."""
    return DataDefinition(
        numerical_columns=NUMERIC,
        categorical_columns=[*CATEGORICAL, SENSITIVE],
        classification=[
            BinaryClassification(target=TARGET, prediction_labels=PREDICTION, prediction_probas=SCORE, pos_label=1)
        ],
    )


def run(data: Path, result_path: Path) -> dict[str, Any]:
    """Read, build, run both presets, export the results as JSON; return the phase times in seconds."""
    phases: dict[str, float] = {"import_s": IMPORTED - STARTED}
    t = time.perf_counter()
    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    phases["read_s"] = time.perf_counter() - t

    t = time.perf_counter()
    reference_ds = Dataset.from_pandas(reference, data_definition=definition())
    current_ds = Dataset.from_pandas(current, data_definition=definition())
    phases["dataset_s"] = time.perf_counter() - t

    t = time.perf_counter()
    drift = Report([DataDriftPreset(columns=[*NUMERIC, *CATEGORICAL])], include_tests=True).run(
        current_ds, reference_ds
    )
    phases["drift_preset_s"] = time.perf_counter() - t

    t = time.perf_counter()
    classification = Report([ClassificationPreset()], include_tests=True).run(current_ds, reference_ds)
    phases["classification_preset_s"] = time.perf_counter() - t

    t = time.perf_counter()
    exported = {"drift": drift.dict(), "classification": classification.dict()}
    result_path.write_text(json.dumps(exported, default=str))
    phases["export_s"] = time.perf_counter() - t
    phases["compute_s"] = phases["dataset_s"] + phases["drift_preset_s"] + phases["classification_preset_s"]
    return {
        "phases": phases,
        "metrics": len(exported["drift"]["metrics"]) + len(exported["classification"]["metrics"]),
        "tests": len(exported["drift"]["tests"]) + len(exported["classification"]["tests"]),
        "versions": {"evidently": _version("evidently"), "pandas": pd.__version__},
    }


def _version(name: str) -> str:
    return version(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with reference.parquet and current.parquet")
    parser.add_argument("--phases", type=Path, required=True, help="where to write the phase times (JSON)")
    parser.add_argument("--output", type=Path, default=Path(os.devnull), help="where to write Evidently's results")
    args = parser.parse_args()
    report = run(args.data, args.output)
    report["phases"]["total_in_process_s"] = time.perf_counter() - STARTED
    args.phases.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
