"""Small template helpers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from apps.core.paths import path_to as _path_to

register = template.Library()


@register.simple_tag
def path_to(name: str, value: object) -> str:
    """``{% url name value %}`` for the rows of long lists: the same path, without the resolver's walk."""
    return _path_to(name, value)


@register.filter
def split_pairs(text: str) -> list[tuple[str, str]]:
    """Turn "a:Label A,b:Label B" into [("a", "Label A"), ("b", "Label B")] for small option lists."""
    return [(item.partition(":")[0], item.partition(":")[2]) for item in text.split(",")]


@register.filter
def number(value: Any) -> str:
    """Write a decimal plainly: 100, 2.5, 0.001 — never 1E+2 or 2.500000."""
    if value is None or value == "":
        return ""
    return format(Decimal(value).normalize(), "f")


@register.filter
def action_label(action: str) -> str:
    """Say an audit action in words: "registry.model_version.created" -> "model version created"."""
    parts = action.split(".")
    return " ".join(parts[1:] if len(parts) > 1 else parts).replace("_", " ")


@register.filter
def get_item(mapping: dict[Any, Any], key: object) -> object:
    return mapping.get(key)


@register.filter
def sparkline(values: list[float], size: str = "120x28") -> str:
    """Return SVG polyline points for a small trend line (drawn inline: no chart library, no CDN)."""
    width, height = (int(n) for n in size.split("x"))
    numbers = [float(v) for v in values]
    if len(numbers) < 2:
        return ""
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1.0
    step = width / (len(numbers) - 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in enumerate(numbers))
