"""The monitoring engine is pure computation: it runs without Django, SciPy, scikit-learn or pandas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.monitoring.engine import data


def test_the_engine_profiles_and_answers_a_window_without_importing_django(tmp_path: Path) -> None:
    reference = data.write(data.reference_table(41, rows=500), tmp_path / "reference.parquet")
    window = data.window(41, rows=500)
    batch = data.write(window.predictions, tmp_path / "batch.parquet")
    outcomes = data.write(window.outcomes[1], tmp_path / "outcomes.parquet")
    script = (
        "import json, sys\n"
        "from datetime import datetime, timezone\n"
        "from apps.monitoring.engine import RawWindow, build_reference, profile_batch, window_results\n"
        "from apps.validation.engine import parse_spec\n"
        f"reference = build_reference({str(reference)!r}, parse_spec({data.BINARY_SPEC!r}))\n"
        "now = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)\n"
        f"profiles = profile_batch({str(batch)!r}, reference, now=now, outcomes=[{str(outcomes)!r}])\n"
        f"window_results(profiles, reference, raw=RawWindow({str(reference)!r}, [{str(batch)!r}]))\n"
        "print(json.dumps(sorted(m for m in ('django', 'scipy', 'sklearn', 'pandas') if m in sys.modules)))\n"
    )
    root = Path(__file__).resolve().parents[3]
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(completed.stdout) == []
