"""One measured fairlearn run: read the current Parquet file with pandas, compute the fairness part of the suite.

Runs in the project's own venv (/work/main/.venv: fairlearn 0.15.0, pandas 3.1.1, scikit-learn 1.9.1), the
same fairlearn the engine's fairness metrics are verified against. bench/run.py starts it in its own process
and measures that process's wall time and peak RSS from outside; this script also times its own phases and
writes them, with the values, to --phases (run.py compares them with Signet's results).

Computed as fairlearn's documentation shows: one MetricFrame with count, selection_rate,
true_positive_rate, false_positive_rate and accuracy_score by group, then demographic_parity_difference,
demographic_parity_ratio and equalized_odds_difference (each builds its own MetricFrame). With --one-frame,
as a fairlearn user who knows its internals would: the three between-groups metrics derived from the one
MetricFrame (`difference()`/`ratio()` of selection rate, the larger of the TPR and FPR differences), the
same values in about 60% of the time.

    .venv/bin/python bench/fairlearn_worker.py --data bench/data/1m --phases /tmp/p.json [--one-frame]
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402  (imports are timed from STARTED)
import json  # noqa: E402
import math  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pandas as pd  # noqa: E402
from fairlearn.metrics import (  # noqa: E402
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from generate import PREDICTION, SENSITIVE, TARGET  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402

IMPORTED = time.perf_counter()

PER_GROUP = {
    "count": count,
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "accuracy": accuracy_score,
}


def _number(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def run(data: Path, one_frame: bool = False) -> dict[str, Any]:
    """Read the current file (the three columns the metrics use), compute, return phase times and values."""
    phases: dict[str, float] = {"import_s": IMPORTED - STARTED}
    t = time.perf_counter()
    current = pd.read_parquet(data / "current.parquet", columns=[TARGET, PREDICTION, SENSITIVE])
    phases["read_s"] = time.perf_counter() - t

    t = time.perf_counter()
    y_true, y_pred, group = current[TARGET], current[PREDICTION], current[SENSITIVE]
    frame = MetricFrame(metrics=PER_GROUP, y_true=y_true, y_pred=y_pred, sensitive_features=group)
    by_group = frame.by_group
    phases["metricframe_s"] = time.perf_counter() - t

    t = time.perf_counter()
    between: dict[str, float | None]
    if one_frame:
        difference, ratio = frame.difference(method="between_groups"), frame.ratio(method="between_groups")
        between = {
            "demographic_parity_difference": _number(difference["selection_rate"]),
            "demographic_parity_ratio": _number(ratio["selection_rate"]),
            "equalized_odds_difference": _number(max(difference["tpr"], difference["fpr"])),
        }
    else:
        between = {
            "demographic_parity_difference": _number(
                demographic_parity_difference(y_true, y_pred, sensitive_features=group)
            ),
            "demographic_parity_ratio": _number(demographic_parity_ratio(y_true, y_pred, sensitive_features=group)),
            "equalized_odds_difference": _number(equalized_odds_difference(y_true, y_pred, sensitive_features=group)),
        }
    phases["between_groups_s"] = time.perf_counter() - t
    phases["compute_s"] = phases["metricframe_s"] + phases["between_groups_s"]

    values: dict[str, Any] = {
        metric: {str(g): _number(by_group.loc[g, metric]) for g in by_group.index} for metric in PER_GROUP
    }
    values.update(between)
    return {"phases": phases, "values": values}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with current.parquet")
    parser.add_argument("--phases", type=Path, required=True, help="where to write the phase times and values (JSON)")
    parser.add_argument("--one-frame", action="store_true", help="derive the between-groups metrics from one frame")
    args = parser.parse_args()
    report = run(args.data, args.one_frame)
    report["phases"]["total_in_process_s"] = time.perf_counter() - STARTED
    args.phases.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
