"""Change a person's password from the command line, through the audited service."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.accounts.services import user_set_password

MAX_TRIES = 3


class Command(BaseCommand):
    help = "Change a user's password (audited as accounts.user.password_changed)."
    requires_migrations_checks = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        for _ in range(MAX_TRIES):
            first = getpass.getpass(f"New password for {user.username}: ")
            second = getpass.getpass("Again: ")
            if first != second:
                self.stderr.write("The passwords do not match.")
                continue
            try:
                validate_password(first, user)
            except ValidationError as exc:
                self.stderr.write("\n".join(exc.messages))
                continue
            user_set_password(actor=None, user=user, password=first)
            self.stdout.write(f"Password changed for {user.username}.")
            return
        raise CommandError(f"Aborting after {MAX_TRIES} attempts; the password was not changed.")
