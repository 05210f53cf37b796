"""Ids that arrive as text (form fields, query strings, checkpoints): parsed once, the same way everywhere.

``str.isdigit()`` is not the test: it accepts "²" and other digits that ``int()`` refuses, and nothing
bounds the size, while the database's keys stop at 2**63 - 1 (a larger number in an ``IN`` list
overflows SQLite's driver).
"""

from __future__ import annotations

import re

MAX_ID = 2**63 - 1  # the largest key a PostgreSQL bigint or an SQLite integer holds
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(text: str | None) -> int | None:
    """The positive id that ``text`` spells in ASCII digits, or None when it spells none."""
    if text is None or not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
