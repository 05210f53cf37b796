"""Print the head of the audit chain as SEQ:HASH, or sign it now as a stored checkpoint (--sign)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit import selectors
from apps.audit.sealing import AuditChainBroken, audit_checkpoint_sign


class Command(BaseCommand):
    help = (
        "Print the current head of the audit chain as SEQ:HASH (for audit_verify --checkpoint);"
        " with --sign, sign it with AUDIT_SIGNING_KEY_FILE and store the checkpoint, as the beat task does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default")
        parser.add_argument("--sign", action="store_true", help="sign and store a checkpoint of the head now")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sign"]:
            self._sign(options["database"])
            return
        head = selectors.audit_head(using=options["database"])
        if head is None:
            raise CommandError("the audit trail is empty: there is no head to print yet")
        self.stdout.write(f"{head['seq']}:{head['hash']}")

    def _sign(self, using: str) -> None:
        try:
            checkpoint = audit_checkpoint_sign(actor=None, using=using)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except AuditChainBroken as exc:
            raise CommandError(f"refused to sign, the chain does not verify: {exc}", returncode=1) from exc
        if checkpoint is None:
            self.stdout.write("nothing to sign: no event since the last checkpoint")
            return
        self.stdout.write(f"signed checkpoint {checkpoint.seq}:{checkpoint.head_hash} with key {checkpoint.key_id}")
