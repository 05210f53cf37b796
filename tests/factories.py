"""Make people and teams through the same services the portal uses."""

from __future__ import annotations

from apps.accounts import services
from apps.accounts.choices import TeamFunction
from apps.accounts.models import Team, User

PASSWORD = "correct-horse-battery"


def team_for(function: str) -> Team:
    team = Team.objects.filter(slug=f"team-{function}").first()
    return team or services.team_create(actor=None, name=f"Team {function}", slug=f"team-{function}", function=function)


def make_user(username: str, *functions: str, superuser: bool = False, password: str = PASSWORD) -> User:
    return services.user_create(
        actor=None,
        username=username,
        password=password,
        email=f"{username}@example.test",
        is_superuser=superuser,
        teams=[team_for(f) for f in functions],
    )


__all__ = ["PASSWORD", "TeamFunction", "make_user", "team_for"]
