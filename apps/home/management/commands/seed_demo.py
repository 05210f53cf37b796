"""Create the demo organisation (idempotent): people, projects of each tier, models, cards, data, monitors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.accounts import demo as accounts_demo
from apps.monitoring import demo as monitoring_demo
from apps.registry import demo as registry_demo
from apps.validation import demo as validation_demo
from apps.workflows import demo as workflows_demo


class Command(BaseCommand):
    help = "Create the demo organisation; safe to run again. Refused unless DEBUG is on or --force."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="seed even with DEBUG off")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo creates users with a known password; run it with DEBUG on, or pass --force.")
        with transaction.atomic():
            created = accounts_demo.seed()
            created += registry_demo.seed()
            created += workflows_demo.seed()
            created += validation_demo.seed()
            created += monitoring_demo.seed()  # the worker profiles its batches once this commits
        password = accounts_demo.DEMO_PASSWORD
        self.stdout.write(f"demo organisation ready ({created} objects created); password for every user: {password}")
