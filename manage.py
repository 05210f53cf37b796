#!/usr/bin/env python
"""Django's command-line utility for Signet."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["run_checks"]:
        # The checks need neither settings nor a database: run them without starting Django
        # (docs/decisions/0011). With Django's own options the command goes through Django instead.
        from apps.validation.engine import cli  # noqa: PLC0415 - run_checks starts without Django

        if cli.standalone(sys.argv[2:]):
            sys.exit(cli.main(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.management import execute_from_command_line  # noqa: PLC0415 - once the settings are named

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
