"""Signet's engine timed from inside: start-up apart from reading + computing + writing the results.

Not a contender (bench/run.py measures the real `manage.py run_checks` for the headline figures): this
does what the command does (apps/validation/engine/cli.py, which runs without starting Django) and
times the phases, so that the compute-only time can be set beside the workers' own. Runs in the
project's venv.

    .venv/bin/python bench/signet_probe.py --data bench/data/1000000 --spec standard.json --phases /tmp/p.json
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402  (imports are timed from STARTED)
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from apps.validation.engine import parse_spec, run_suite  # noqa: E402

IMPORTED = time.perf_counter()


def run(data: Path, spec_name: str, output: Path) -> dict[str, Any]:
    """Parse the suite, run it, write the JSON as run_checks does; return the phase times in seconds."""
    phases: dict[str, float] = {"import_s": IMPORTED - STARTED}
    pandas_before = "pandas" in sys.modules
    t = time.perf_counter()
    spec = parse_spec(json.loads((data / spec_name).read_text()))
    outcome = run_suite(data / "reference.parquet", data / "current.parquet", spec)
    phases["run_suite_s"] = time.perf_counter() - t  # reading the files included
    t = time.perf_counter()
    document = json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
    output.write_text(document + "\n", encoding="utf-8")
    phases["write_s"] = time.perf_counter() - t
    phases["compute_s"] = phases["run_suite_s"] + phases["write_s"]
    return {
        "phases": phases,
        "status": outcome.status,
        "results": len(outcome.results),
        # pyarrow imports pandas lazily when it is installed (it is, in the dev venv): a fixed cost in the run.
        "pandas_imported_during_run": not pandas_before and "pandas" in sys.modules,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder with the Parquet files and suites")
    parser.add_argument("--spec", required=True, help="suite file name inside --data")
    parser.add_argument("--phases", type=Path, required=True, help="where to write the phase times (JSON)")
    parser.add_argument("--output", type=Path, default=Path(os.devnull), help="where to write the results")
    args = parser.parse_args()
    report = run(args.data, args.spec, args.output)
    report["phases"]["total_in_process_s"] = time.perf_counter() - STARTED
    args.phases.write_text(json.dumps(report))


if __name__ == "__main__":
    main()
