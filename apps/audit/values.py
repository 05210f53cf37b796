"""What an event stores: values as plain JSON types, exactly as the database gives them back.

The chain hashes the cleaned value, so cleaning must be deterministic and equal to what a read of the
stored row returns (tests/audit/test_chain.py checks both, on PostgreSQL and SQLite).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from apps.audit.chain import format_time
from apps.core.text import storable

# PostgreSQL text cannot hold NUL; replaced before hashing, so the stored value equals the hashed value.
_clean_text = storable


class _Encoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds, in the chain's own format."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return format_time(o) if o.tzinfo else o.isoformat()
        return super().default(o)


class _NotPlain(Exception):
    """A value the quick walk of ``clean_json`` does not take: it goes through JSON text instead."""


def _plain(node: Any) -> Any:
    """``node`` made of exactly str, int, float, bool, None, list, tuple and str-keyed dict, cleaned as
    ``clean_json`` cleans it; raises _NotPlain at anything else (a subclass, a time, a Decimal...)."""
    kind = type(node)
    if kind is str:
        return node if node.isascii() and "\x00" not in node else _clean_text(node)
    if kind is dict:
        out = {}
        for key, item in node.items():
            if type(key) is not str:
                raise _NotPlain
            if not key.isascii() or "\x00" in key:
                key = _clean_text(key)  # noqa: PLW2901 - the key as it is stored
            leaf = type(item)
            if leaf is str:  # the leaves inline: most of a snapshot is strings
                out[key] = item if item.isascii() and "\x00" not in item else _clean_text(item)
            elif leaf is int or leaf is bool or item is None:
                out[key] = item
            else:
                out[key] = _plain(item)
        return out
    if kind is int or kind is bool or node is None:
        return node
    if kind is list or kind is tuple:
        return [_plain(item) for item in node]
    if kind is float:
        if not math.isfinite(node):
            raise _NotPlain  # json.dumps refuses it: the slow path raises ValueError
        return int(node) if node.is_integer() else node
    raise _NotPlain


def clean_json(value: Any) -> Any:
    """Return ``value`` as plain JSON types, exactly as it will read back from the database."""
    try:
        return _plain(value)  # most values (strings, numbers, dicts of them): no JSON text needed
    except (_NotPlain, RecursionError):
        return clean_json_text(value)  # JSON text says what it makes of the rest, and refuses what it cannot take


def clean_json_text(value: Any) -> Any:
    """``clean_json`` through JSON text: what the quick walk must equal (tests/audit/test_chain.py)."""
    plain = json.loads(json.dumps(value, cls=_Encoder, allow_nan=False))

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return _clean_text(node)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {_clean_text(str(key)): walk(item) for key, item in node.items()}
        if isinstance(node, float) and node.is_integer():
            # PostgreSQL's jsonb gives 1e16 back as 10000000000000000 and -0.0 as 0: store the integer.
            return int(node)
        return node

    return walk(plain)
