"""The workflows' modules import each other in one direction only (import-linter contracts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONTRACTS = Path(__file__).with_name("importlinter.ini")


def test_reads_never_import_writes_and_the_stage_rules_stay_pure() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), str(CONTRACTS), "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
