"""Make people and teams through the same services the portal uses."""

from __future__ import annotations

from apps.accounts import services
from apps.accounts.choices import TeamFunction
from apps.accounts.models import Team, User
from apps.projects import services as projects
from apps.projects.models import Project

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


__all__ = ["PASSWORD", "TeamFunction", "csv_bytes", "make_project", "make_user", "team_for"]


def make_project(owner: User, *, name: str = "Credit scoring", **members: User) -> Project:
    """A project proposed by ``owner`` with ``role=user`` memberships (role names of ProjectRole)."""
    project = projects.project_create(actor=owner, name=name, business_objective="Decide faster on credit lines.")
    for role, user in members.items():
        projects.membership_add(actor=owner, project=project, user=user, role=role)
    return project


def csv_bytes(rows: int = 5) -> bytes:
    lines = ["age,income,label"] + [f"{20 + i},{1000 * i},{i % 2}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()
