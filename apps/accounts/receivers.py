"""Receivers that keep what a request has memoised about people true; AccountsConfig.ready connects them."""

from __future__ import annotations

from typing import Any

from apps.core import context


def forget_teams(sender: Any, **kwargs: Any) -> None:
    """On a change of anyone's teams (``user.teams``) or of a team itself (its function): read them afresh.

    A request memoises each user's teams (apps.core.permissions.user_teams); the request that
    changes them, or a team's function, must not judge with the old ones for the rest of it.
    """
    context.forget()
