"""Verify the audit chain: exit 0 when intact, 1 naming the first broken seq, 2 on bad usage."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

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
        result = verify(selectors.audit_chain(using=options["database"]), checkpoint)
        if not result.ok:
            raise CommandError(f"audit chain broken at seq {result.broken_seq}: {result.reason}", returncode=1)
        head = f"head {result.head}" if result.head else "the trail is empty"
        self.stdout.write(f"audit chain intact: {result.checked} events, {head}")
