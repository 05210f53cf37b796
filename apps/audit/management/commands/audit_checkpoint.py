"""Print the head of the audit chain as SEQ:HASH, to keep somewhere the database cannot reach."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit import selectors


class Command(BaseCommand):
    help = "Print the current head of the audit chain as SEQ:HASH (for audit_verify --checkpoint)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        head = selectors.audit_head(using=options["database"])
        if head is None:
            raise CommandError("the audit trail is empty: there is no head to print yet")
        self.stdout.write(f"{head['seq']}:{head['hash']}")
