"""Ids that arrive as text are parsed one way: ASCII digits, positive, within a database key."""

from __future__ import annotations

import pytest

from apps.core.ids import MAX_ID, parse_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("007", 7),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("9" * 30, None),
        ("0", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1\n", None),
        ("²", None),  # str.isdigit() says yes; int() says no
        ("١", None),  # Arabic-Indic one: int() would take it, an id in a URL should not
        ("1.0", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_id(text: str | None, expected: int | None) -> None:
    assert parse_id(text) == expected
