"""Create the demo organisation (idempotent): teams and one user per role, password signet-demo."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.accounts import services
from apps.accounts.choices import TeamFunction
from apps.accounts.models import Team, User

DEMO_PASSWORD = "signet-demo"  # noqa: S105 - documented demo password, refused unless DEBUG or --force

TEAMS = [
    ("Retail banking", "business", TeamFunction.BUSINESS),
    ("Data science", "data-science", TeamFunction.DATA_SCIENCE),
    ("IT operations", "it-operations", TeamFunction.IT_OPS),
    ("Model risk validation", "model-risk", TeamFunction.RISK_VALIDATION),
    ("Compliance", "compliance", TeamFunction.COMPLIANCE),
    ("Internal audit", "internal-audit", TeamFunction.AUDIT),
]

# username, first name, last name, team slug (None: no team), administrator
USERS = [
    ("business", "Beatrice", "Owens", "business", False),
    ("developer", "Dev", "Patel", "data-science", False),
    ("validator", "Valentina", "Rossi", "model-risk", False),
    ("itops", "Ivan", "Okafor", "it-operations", False),
    ("compliance", "Clara", "Meyer", "compliance", False),
    ("auditor", "Aude", "Laurent", "internal-audit", False),
    ("admin", "Ada", "Ministrator", None, True),
    ("outsider", "Oscar", "Outis", None, False),
]


class Command(BaseCommand):
    help = "Create the demo organisation; safe to run again. Refused unless DEBUG is on or --force."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="seed even with DEBUG off")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo creates users with a known password; run it with DEBUG on, or pass --force.")
        created = 0
        with transaction.atomic():
            teams = {}
            for name, slug, function in TEAMS:
                team = Team.objects.filter(slug=slug).first()
                if team is None:
                    team = services.team_create(actor=None, name=name, slug=slug, function=function)
                    created += 1
                teams[slug] = team
            for username, first, last, team_slug, admin in USERS:
                if User.objects.filter(username=username).exists():
                    continue
                services.user_create(
                    actor=None,
                    username=username,
                    password=DEMO_PASSWORD,
                    email=f"{username}@signet.example",
                    first_name=first,
                    last_name=last,
                    is_superuser=admin,
                    teams=[teams[team_slug]] if team_slug else [],
                )
                created += 1
        self.stdout.write(
            f"demo organisation ready ({created} objects created); password for every user: {DEMO_PASSWORD}"
        )
