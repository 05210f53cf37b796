"""Generate the Ed25519 key pair that signs the audit trail's checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.signing import generate_key_pair


class Command(BaseCommand):
    help = (
        "Write a new Ed25519 private key to PATH (mode 0600) and its public key to PATH.pub;"
        " point AUDIT_SIGNING_KEY_FILE at the first and AUDIT_VERIFY_KEY_FILE at the second."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="where to write the private key (must not exist yet)")

    def handle(self, *args: Any, **options: Any) -> None:
        private_path: Path = options["path"]
        public_path = private_path.with_name(private_path.name + ".pub")
        if not private_path.parent.is_dir():
            raise CommandError(f"{private_path.parent} is not a folder", returncode=2)
        try:
            key = generate_key_pair(private_path, public_path)
        except (FileExistsError, PermissionError) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(
            f"key {key}\n"
            f"private key: {private_path} (mode 0600; keep it off the database host's backups)\n"
            f"public key:  {public_path}\n"
            f"set AUDIT_SIGNING_KEY_FILE={private_path} for Celery beat's workers"
            f" and AUDIT_VERIFY_KEY_FILE={public_path} wherever audit_verify runs"
        )
