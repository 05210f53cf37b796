"""The accounts' choices; a team's function is shared vocabulary, kept in apps.core so every app can name it."""

from __future__ import annotations

from apps.core.choices import TeamFunction

__all__ = ["TeamFunction"]
