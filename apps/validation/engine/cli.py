"""`run_checks` as a program: arguments, the suite file, the results, and the exit status.

One implementation for both ways in: Django's management command (`call_command("run_checks")`,
`manage.py run_checks --settings …`) wraps it, and `manage.py run_checks` without Django's own options
calls `main()` before Django starts, because the checks need neither settings nor a database: a CI job
that calls it on every build waits for the checks, not for the portal's start-up (docs/decisions/0011).
Nothing here may import Django.

Exit status: 0 nothing failed, 1 a check failed or could not be evaluated, 2 the suite or a file is
unusable (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from apps.validation.engine.errors import InputError, SpecError
from apps.validation.engine.parsing import parse_spec
from apps.validation.engine.runner import SuiteResult, run_suite
from apps.validation.engine.spec import Spec

HELP = (
    "Run the checks of a suite (JSON) on a reference and a current dataset (CSV or Parquet) and print "
    "the results as JSON. Exit status: 0 nothing failed, 1 a check failed or could not be evaluated, "
    "2 the suite or a file is unusable."
)
MAX_SPEC_BYTES = 1024 * 1024  # a suite is a few kilobytes; more is a wrong file
# Django's own options: given any of them (or an abbreviation, as argparse allows), manage.py leaves the
# command to Django, which calls run() too.
DJANGO_OPTIONS = (
    "--settings",
    "--pythonpath",
    "--traceback",
    "--verbosity",
    "--no-color",
    "--force-color",
    "--version",
)


class Writer(Protocol):
    """Where the results go: sys.stdout, or Django's OutputWrapper."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


class Failure(Exception):
    """The run cannot succeed: the message for the person, and the exit status."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.returncode = returncode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments, on argparse's parser or on Django's (a subclass of it)."""
    parser.add_argument("--reference", required=True, type=Path, help="reference dataset (.csv or .parquet)")
    parser.add_argument("--current", required=True, type=Path, help="current dataset (.csv or .parquet)")
    parser.add_argument("--spec", required=True, type=Path, help="the suite, a JSON file")
    parser.add_argument("--output", type=Path, help="write the JSON here and print a one-line summary instead")


def run(reference: Path, current: Path, spec_path: Path, output: Path | None, stdout: Writer) -> None:
    """Run the suite and print the results (or write them and print a summary); raise Failure when it fails."""
    spec = read_spec(spec_path)
    try:
        outcome = run_suite(reference, current, spec)
    except InputError as exc:
        raise Failure(str(exc), 2) from exc
    except MemoryError as exc:
        raise Failure("The datasets need more memory than this machine has.", 2) from exc
    document = json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
    if output is not None:
        try:
            output.write_text(document + "\n", encoding="utf-8")
        except OSError as exc:
            raise Failure(f"--output {output}: {exc.strerror or exc}", 2) from exc
    try:
        stdout.write((document if output is None else summary(outcome, output)) + "\n")
        stdout.flush()
    except OSError as exc:  # a closed pipe (`| head`), a full disk
        _quiet_stdout()
        raise Failure(f"The results could not be written to standard output: {exc.strerror or exc}.", 2) from exc
    if outcome.status in ("fail", "error"):
        failing = [item for item in outcome.results if item["status"] in ("fail", "error")]
        raise Failure(
            f"{len(failing)} of {len(outcome.results)} checks failed or could not be evaluated "
            f"(overall status: {outcome.status}).",
            1,
        )


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's last flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def read_spec(path: Path) -> Spec:
    """Read and parse the suite file; raise Failure (status 2) saying what is wrong."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise Failure(f"--spec {path}: {exc.strerror or exc}.", 2) from exc
    if len(raw) > MAX_SPEC_BYTES:
        raise Failure(f"--spec {path}: the suite is larger than {MAX_SPEC_BYTES // 1024} KiB.", 2)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Failure(f"--spec {path}: the file is not UTF-8 text.", 2) from exc
    except json.JSONDecodeError as exc:
        raise Failure(
            f"--spec {path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).", 2
        ) from exc
    try:
        return parse_spec(data)
    except SpecError as exc:
        raise Failure(f"--spec {path}: {exc}", 2) from exc


def summary(outcome: SuiteResult, output: Path) -> str:
    """The one-line summary printed when the results go to a file."""
    counts: dict[str, int] = {}
    for item in outcome.results:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    detail = ", ".join(f"{counts[key]} {key}" for key in ("pass", "warn", "fail", "error", "skipped") if key in counts)
    return f"{outcome.status}: {len(outcome.results)} results ({detail or 'none'}) written to {output}"


def standalone(argv: Sequence[str]) -> bool:
    """Whether these arguments (after the command's name) can run without Django: none of Django's options."""
    for arg in argv:
        if arg == "--":
            break  # what follows is a value, never an option
        name = arg.split("=", 1)[0]
        if arg == "-v" or (arg.startswith("-v") and arg[2:].lstrip("=").isdigit()):
            return False  # -v, -v2, -v=2
        if name.startswith("--") and len(name) > 2 and any(option.startswith(name) for option in DJANGO_OPTIONS):
            return False
    return True


def main(argv: Sequence[str], prog: str = "manage.py run_checks") -> int:
    """Parse the arguments, run, print as Django's command does; return the exit status."""
    parser = argparse.ArgumentParser(prog=prog, description=HELP)
    add_arguments(parser)
    options: Any = parser.parse_args(list(argv))  # exits 2 with the usage on bad arguments
    try:
        run(options.reference, options.current, options.spec, options.output, sys.stdout)
    except Failure as exc:
        sys.stdout.flush()
        sys.stderr.write(f"CommandError: {exc}\n")  # the same line Django prints for the command
        return exc.returncode
    return 0
