"""The default suite of each risk tier: the standard checks on conventionally named columns.

A project whose files use other names stores its own suite (the same JSON, with its column mapping).
"""

from __future__ import annotations

from typing import Any

CONVENTIONAL_COLUMNS = {"target": "y_true", "prediction": "y_pred", "score": "y_score"}


def default_suite(tier: str, task: str = "binary_classification") -> dict[str, Any]:
    """Return the standard suite for a model's task; the tier is recorded for the reader."""
    columns: dict[str, Any] = dict(CONVENTIONAL_COLUMNS)
    if task != "binary_classification":
        columns.pop("score")
    return {"task": task if task != "other" else "binary_classification", "columns": columns, "checks": "standard"}
