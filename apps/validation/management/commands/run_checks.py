"""Run a validation suite on two local files: exit 0 when nothing fails, 1 when a check fails, 2 on bad input.

The program itself is apps/validation/engine/cli.py; `manage.py run_checks` calls it without starting
Django unless Django's own options are given (docs/decisions/0011). This command is the way in through
Django: `call_command`, `--settings`, `manage.py help`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.validation.engine import cli


class Command(BaseCommand):
    help = cli.HELP
    # Pure computation on local files: no system checks, so no database is needed.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        # call_command passes keyword options as given, without argparse's type conversion.
        output = Path(options["output"]) if options.get("output") else None
        try:
            cli.run(Path(options["reference"]), Path(options["current"]), Path(options["spec"]), output, self.stdout)
        except cli.Failure as exc:
            raise CommandError(str(exc), returncode=exc.returncode) from exc
