"""UNSET: the default of a service argument that changes a field only when the caller gives it.

``None`` cannot play that part where ``None`` is a value a field may take, and ``**fields: Any``
would hide the arguments from type checkers and readers. A partial update is written::

    def team_update(*, actor: User, team: Team, name: str | Unset = UNSET, ...) -> Team:
        fields = given(name=name, ...)
"""

from __future__ import annotations

import enum
from typing import Any, Final


class Unset(enum.Enum):
    UNSET = "unset"

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


def given(**values: Any) -> dict[str, Any]:
    """Return the keyword arguments the caller gave, leaving out those still UNSET."""
    return {name: value for name, value in values.items() if value is not UNSET}
