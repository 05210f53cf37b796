"""Verify the audit chain: exit 0 when intact, 1 naming the first broken seq, 2 when it cannot check."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from apps.audit import selectors
from apps.audit.chain import Checkpoint, verify


class Command(BaseCommand):
    help = "Walk the audit chain and check every link; optionally against a checkpoint SEQ:HASH."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--checkpoint", help="SEQ:HASH printed earlier by audit_checkpoint")
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = None
        if options["checkpoint"]:
            try:
                checkpoint = Checkpoint.parse(options["checkpoint"])
            except ValueError as exc:
                raise CommandError(f"--checkpoint: {exc}", returncode=2) from exc
        if options["database"] not in connections:
            raise CommandError(f"--database: no database named {options['database']!r}", returncode=2)
        try:
            result = verify(selectors.audit_chain(using=options["database"]), checkpoint)
        except DatabaseError as exc:
            # Exit 2, not 1: "could not check" must never read as "the chain is broken".
            raise CommandError(f"could not read the audit trail: {exc}", returncode=2) from exc
        if not result.ok:
            raise CommandError(f"audit chain broken at seq {result.broken_seq}: {result.reason}", returncode=1)
        head = f"head {result.head}" if result.head else "the trail is empty"
        self.stdout.write(f"audit chain intact: {result.checked} events, {head}")
