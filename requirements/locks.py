"""Keep the lock files in step with pyproject.toml: ``stamp`` after ``make lock``, ``check`` in ``make test``.

Each lock (``run.txt``, ``production.txt``, ``dev.txt``, ``tools.txt``, ``mlflow-server.txt``) is
compiled by ``make lock`` from pyproject.toml and the ``*.in`` files beside this script. Its last
line records a fingerprint of what it was compiled from: the project's dependencies, its extras,
the Python it requires, the build requirements and the ``*.in`` files. ``check`` recomputes the
fingerprint and fails, naming the stale locks, when someone changed a dependency without running
``make lock``; it needs no network, so it runs on every ``make test``. Settings elsewhere in
pyproject.toml (ruff, mypy, pytest) do not change the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOCKS = ("run.txt", "production.txt", "dev.txt", "tools.txt", "mlflow-server.txt")
PREFIX = "# pyproject.toml fingerprint: "


def fingerprint() -> str:
    """SHA-256 over the canonical JSON of every input of the locks."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    inputs = {
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "requires-python": project.get("requires-python", ""),
        "build-system": pyproject.get("build-system", {}).get("requires", []),
        "in": {path.name: path.read_text(encoding="utf-8") for path in sorted(HERE.glob("*.in"))},
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _recorded(lock: Path) -> str | None:
    if not lock.exists():
        return None
    lines = [line for line in lock.read_text(encoding="utf-8").splitlines() if line.startswith(PREFIX)]
    return lines[-1].removeprefix(PREFIX).strip() if lines else None


def stamp() -> None:
    """Write the current fingerprint as the last line of every lock (replacing an earlier one)."""
    current = fingerprint()
    for name in LOCKS:
        lock = HERE / name
        kept = [line for line in lock.read_text(encoding="utf-8").splitlines() if not line.startswith(PREFIX)]
        lock.write_text("\n".join([*kept, PREFIX + current]) + "\n", encoding="utf-8")


def check() -> int:
    """Return 0 when every lock was compiled from the current inputs, else 1 with a message."""
    current = fingerprint()
    stale = [name for name in LOCKS if _recorded(HERE / name) != current]
    if stale:
        print(
            f"requirements/{', requirements/'.join(stale)} not compiled from the current pyproject.toml"
            " (or requirements/*.in): run `make lock` and commit the locks with the change.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "stamp":
        stamp()
        sys.exit(0)
    if command == "check":
        sys.exit(check())
    sys.exit(f"usage: {sys.argv[0]} [check|stamp]")
