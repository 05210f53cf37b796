"""Create a pipeline's service account: no password, never an administrator, never a pair of eyes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import Team
from apps.accounts.services import user_create


class Command(BaseCommand):
    help = (
        "Create a service account for a pipeline: createserviceaccount <username> [--team SLUG ...]. "
        "It has no password; give it an API token with createtoken and a project role (it_ops) as for a person."
    )
    requires_migrations_checks = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--team", action="append", default=[], help="the slug of a team it belongs to; repeat")
        parser.add_argument("--name", default="", help="what it is, shown as its first name (such as Deploy pipeline)")

    def handle(self, *args: Any, **options: Any) -> None:
        slugs = list(dict.fromkeys(options["team"]))
        teams = list(Team.objects.filter(slug__in=slugs))
        unknown = sorted(set(slugs) - {team.slug for team in teams})
        if unknown:
            raise CommandError(f"no team with the slug {', '.join(map(repr, unknown))}")
        try:
            user = user_create(
                actor=None,
                username=options["username"],
                first_name=options["name"][:150],
                is_service_account=True,
                teams=teams,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(
            f"Created the service account {user.username}. Give it an API token with "
            f"`createtoken {user.username}` and the it_ops role in the projects it deploys."
        )
