"""Text that PostgreSQL will store: no NUL character, no lone surrogate.

Values that come from files people upload (column names, group values, error messages quoting them)
or from decoded JSON can hold both; PostgreSQL's text and jsonb refuse NUL, and UTF-8 has no lone
surrogates. Replaced rather than refused where the text is a record of what was found.
"""

from __future__ import annotations

from typing import Any


def storable(value: str, limit: int | None = None) -> str:
    """``value`` with NUL as U+FFFD and lone surrogates as "?", cut to ``limit`` characters."""
    value = value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    return value[:limit] if limit is not None else value


def storable_json(node: Any) -> Any:
    """Decoded JSON with every string and key made ``storable``."""
    if isinstance(node, str):
        return storable(node)
    if isinstance(node, list):
        return [storable_json(item) for item in node]
    if isinstance(node, dict):
        return {storable(str(key)): storable_json(item) for key, item in node.items()}
    return node
