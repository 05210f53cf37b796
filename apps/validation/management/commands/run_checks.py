"""Run a validation suite on two local files: exit 0 when nothing fails, 1 when a check fails, 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.validation.engine import InputError, SpecError, parse_spec, run_suite

MAX_SPEC_BYTES = 1024 * 1024  # a suite is a few kilobytes; more is a wrong file


class Command(BaseCommand):
    help = (
        "Run the checks of a suite (JSON) on a reference and a current dataset (CSV or Parquet) and print "
        "the results as JSON. Exit status: 0 nothing failed, 1 a check failed or could not be evaluated, "
        "2 the suite or a file is unusable."
    )
    # Pure computation on local files: no system checks, so no database is needed.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reference", required=True, type=Path, help="reference dataset (.csv or .parquet)")
        parser.add_argument("--current", required=True, type=Path, help="current dataset (.csv or .parquet)")
        parser.add_argument("--spec", required=True, type=Path, help="the suite, a JSON file")
        parser.add_argument("--output", type=Path, help="write the JSON here and print a one-line summary instead")

    def handle(self, *args: Any, **options: Any) -> None:
        # call_command passes keyword options as given, without argparse's type conversion.
        spec = parse_spec_file(Path(options["spec"]))
        try:
            outcome = run_suite(Path(options["reference"]), Path(options["current"]), spec)
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except MemoryError as exc:
            raise CommandError("The datasets need more memory than this machine has.", returncode=2) from exc
        document = json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
        output = Path(options["output"]) if options.get("output") else None
        if output is None:
            self.stdout.write(document)
        else:
            try:
                output.write_text(document + "\n", encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"--output {output}: {exc.strerror or exc}", returncode=2) from exc
            self.stdout.write(summary(outcome.status, outcome.results, output))
        if outcome.status in ("fail", "error"):
            failing = [item for item in outcome.results if item["status"] in ("fail", "error")]
            raise CommandError(
                f"{len(failing)} of {len(outcome.results)} checks failed or could not be evaluated "
                f"(overall status: {outcome.status}).",
                returncode=1,
            )


def parse_spec_file(path: Path) -> Any:
    """Read and parse the suite file; raise CommandError(returncode=2) saying what is wrong."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"--spec {path}: {exc.strerror or exc}.", returncode=2) from exc
    if len(raw) > MAX_SPEC_BYTES:
        raise CommandError(f"--spec {path}: the suite is larger than {MAX_SPEC_BYTES // 1024} KiB.", returncode=2)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CommandError(f"--spec {path}: the file is not UTF-8 text.", returncode=2) from exc
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"--spec {path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).", returncode=2
        ) from exc
    try:
        return parse_spec(data)
    except SpecError as exc:
        raise CommandError(f"--spec {path}: {exc}", returncode=2) from exc


def summary(status: str, results: list[dict[str, Any]], output: Path) -> str:
    """Return the one-line summary printed when the results go to a file."""
    counts: dict[str, int] = {}
    for item in results:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    detail = ", ".join(f"{counts[key]} {key}" for key in ("pass", "warn", "fail", "error", "skipped") if key in counts)
    return f"{status}: {len(results)} results ({detail or 'none'}) written to {output}"
