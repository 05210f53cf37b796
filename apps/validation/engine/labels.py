"""Binary labels: which rows hold the positive label, which hold a label at all, and which labels exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

from apps.validation.engine.reader import label_text, to_labels, to_numbers


@dataclass(frozen=True)
class BinaryColumn:
    positive: np.ndarray  # True where the value is the positive label
    present: np.ndarray  # True where there is a value
    seen: set[str]  # the distinct labels, in label_text spelling


def binary_column(column: Any, positive: str) -> BinaryColumn:
    """Flag a label column's positive rows; `positive` is the positive label's label_text spelling.

    Raises ValueError when a text column has more distinct values than any label column should.
    """
    value_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    numeric = pa.types.is_integer(value_type) or pa.types.is_floating(value_type) or pa.types.is_boolean(value_type)
    if not numeric:
        codes = to_labels(column)
        used = np.bincount(codes.codes[codes.codes >= 0], minlength=len(codes.texts)) > 0
        seen = {text for text, is_used in zip(codes.texts, used, strict=True) if is_used}
        code = codes.texts.index(positive) if positive in codes.texts else -2
        return BinaryColumn(codes.codes == code, codes.codes >= 0, seen)
    # Numbers and booleans compare as numbers, without hashing every row: 1, 1.0 and true are one label.
    values = to_numbers(column).values
    present = ~np.isnan(values)
    try:
        positive_value: float | None = float(positive)
    except ValueError:
        positive_value = None
    flags = values == positive_value if positive_value is not None else np.zeros(values.shape[0], dtype=bool)
    seen = {positive} if flags.any() else set()
    rest = values[present & ~flags]
    if rest.shape[0]:
        seen.update({label_text(float(rest.min())), label_text(float(rest.max()))})
    return BinaryColumn(flags, present, seen)
