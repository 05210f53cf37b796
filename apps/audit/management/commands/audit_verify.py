"""Verify the audit trail: exit 0 when intact, 1 naming the first broken seq, 2 when it cannot check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from apps.audit import selectors
from apps.audit.chain import Checkpoint
from apps.audit.signing import AuditKeyError
from apps.audit.stretches import STRETCH
from apps.audit.verification import CheckpointFileError, verify_trail

MAX_WORKERS = 8


class Command(BaseCommand):
    help = (
        "Walk the audit chain and check every link, the recorded head and every signed checkpoint"
        " (signatures with AUDIT_VERIFY_KEY_FILE); optionally against a checkpoint SEQ:HASH or checkpoint files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--checkpoint", help="SEQ:HASH printed earlier by audit_checkpoint")
        parser.add_argument(
            "--checkpoint-file",
            action="append",
            default=[],
            type=Path,
            help="JSON Lines of signed checkpoints kept outside the database (AUDIT_CHECKPOINT_FILE); repeatable",
        )
        parser.add_argument("--database", default="default", help="database alias (default: default)")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=selectors.CHAIN_BATCH_SIZE,
            help=f"events read per query (default {selectors.CHAIN_BATCH_SIZE}); memory grows with it, not the trail",
        )

        parser.add_argument(
            "--workers",
            type=int,
            default=min(os.cpu_count() or 1, MAX_WORKERS),
            help="processes that walk stretches of the chain at once, on PostgreSQL (default: the CPUs, at most"
            f" {MAX_WORKERS}); 1 walks it in this process",
        )
        parser.add_argument(
            "--stretch",
            type=int,
            default=STRETCH,
            help=f"events each worker walks at a time (default {STRETCH})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = None
        if options["checkpoint"]:
            try:
                checkpoint = Checkpoint.parse(options["checkpoint"])
            except ValueError as exc:
                raise CommandError(f"--checkpoint: {exc}", returncode=2) from exc
        if options["batch_size"] < 1:
            raise CommandError("--batch-size: give a whole number of events, 1 or more", returncode=2)
        if options["stretch"] < 1:
            raise CommandError("--stretch: give a whole number of events, 1 or more", returncode=2)
        if options["workers"] < 1:
            raise CommandError("--workers: give a whole number of processes, 1 or more", returncode=2)
        if options["database"] not in connections:
            raise CommandError(f"--database: no database named {options['database']!r}", returncode=2)
        try:
            result = verify_trail(
                using=options["database"],
                checkpoint=checkpoint,
                checkpoint_files=options["checkpoint_file"],
                batch_size=options["batch_size"],
                workers=options["workers"],
                stretch=options["stretch"],
            )
        except DatabaseError as exc:
            # Exit 2, not 1: "could not check" must never read as "the chain is broken".
            raise CommandError(f"could not read the audit trail: {exc}", returncode=2) from exc
        except (AuditKeyError, CheckpointFileError) as exc:
            raise CommandError(f"could not check the signed checkpoints: {exc}", returncode=2) from exc
        if not result.ok:
            raise CommandError(f"audit chain broken at seq {result.broken_seq}: {result.reason}", returncode=1)
        head = f"head {result.head}" if result.head else "the trail is empty"
        signed = f", {result.signed_checkpoints} signed checkpoints hold" if result.signed_checkpoints else ""
        summary = f"audit chain intact: {result.checked} events, {head}{signed}"
        if result.unchecked_signatures:
            raise CommandError(
                f"{summary}; but the signatures of {result.unchecked_signatures} checkpoints were not checked:"
                " set AUDIT_VERIFY_KEY_FILE to the public key",
                returncode=2,
            )
        self.stdout.write(summary)
