"""What several families share: the binary labels of the current dataset and how notes are said."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.validation.engine.labels import BinaryColumn, binary_column
from apps.validation.engine.measure import Measure, plural
from apps.validation.engine.reader import Dataset, label_text
from apps.validation.engine.spec import Spec


@dataclass
class Labels:
    """Binary labels of the current dataset, prepared once for performance and fairness."""

    target: np.ndarray | None  # True where the target is the positive label
    target_present: np.ndarray | None
    prediction: np.ndarray | None
    prediction_present: np.ndarray | None
    note: str | None  # said on every result that uses them


class SharedLabels:
    """The binary labels, read on first use by whichever unit asks first (from any thread)."""

    def __init__(self, spec: Spec, current: Dataset) -> None:
        self.spec = spec
        self.current = current
        self._lock = threading.Lock()
        self._labels: Labels | str | None = None

    def get(self) -> Labels | str:
        """Return the positive flags of target and prediction, or why the labels are not binary."""
        with self._lock:  # performance and fairness units may ask at once
            if self._labels is None:
                self._labels = self._read()
            return self._labels

    def _read(self) -> Labels | str:
        positive = label_text(self.spec.positive_label)
        read = read_binary(self.spec, self.current.column)
        if isinstance(read, str):
            return read
        seen = set().union(*(column.seen for column in read.values()))
        problem, note = binary_verdict(seen, positive)
        if problem is not None:
            return problem
        target, prediction = read.get("target"), read.get("prediction")
        return Labels(
            target=target.positive if target else None,
            target_present=target.present if target else None,
            prediction=prediction.positive if prediction else None,
            prediction_present=prediction.present if prediction else None,
            note=note,
        )


def read_binary(spec: Spec, column: Callable[[str], Any]) -> dict[str, BinaryColumn] | str:
    """Flag the positive rows of the target and prediction columns (`column(name)` reads one), or say why not."""
    positive = label_text(spec.positive_label)
    read: dict[str, BinaryColumn] = {}
    for role in ("target", "prediction"):
        name = getattr(spec.columns, role)
        if name is None:
            continue
        try:
            read[role] = binary_column(column(name), positive)
        except ValueError as exc:
            return f"The {role} column {name!r} has {exc}; binary classification needs two labels."
    return read


def binary_verdict(seen: set[str], positive: str) -> tuple[str | None, str | None]:
    """Return (why the labels are not binary, or None; the note every result using them says, or None).

    `seen` holds the labels of the target and the prediction in label_text spelling.
    """
    others = sorted(seen - {positive})
    if len(others) > 1:
        shown = ", ".join(repr(text) for text in others[:10]) + (" …" if len(others) > 10 else "")
        return (
            f"Binary classification needs two labels, one of them the positive label {positive!r}; "
            f'besides it the target and prediction hold {shown}. Set "positive_label" in the suite '
            "or map the labels to 0/1."
        ), None
    if seen and positive not in seen:
        return None, f"the positive label {positive!r} never appears in the target or the prediction"
    return None, None


def left_out(rows: np.ndarray, what: str) -> str | None:
    """Say how many rows the mask `rows` leaves out for lack of `what`, or None when none."""
    return left_out_count(int(rows.shape[0] - np.count_nonzero(rows)), what)


def left_out_count(excluded: int, what: str) -> str | None:
    """Say that `excluded` rows were left out for lack of `what`, or None when none."""
    if not excluded:
        return None
    return f"{plural(excluded, 'row')} without {what} {'was' if excluded == 1 else 'were'} left out"


def with_note(measures: dict[str, Measure], *notes: str | None) -> dict[str, Measure]:
    """Return the measures with `notes` said before each measure's own note."""
    prefix = [note for note in notes if note]
    if not prefix:
        return measures
    return {
        name: Measure(measure.value, "; ".join([*prefix, *([measure.note] if measure.note else [])]), measure.error)
        for name, measure in measures.items()
    }
