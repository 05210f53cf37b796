"""Binary labels: which rows hold the positive label, which hold a label at all, and which labels exist."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

from apps.validation.engine.reader import integers_of, label_text, to_labels, to_numbers


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
    if pa.types.is_integer(column.type) or pa.types.is_boolean(column.type):
        return _integer_column(column, positive)
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


def _integer_column(column: Any, positive: str) -> BinaryColumn:
    """The integer or boolean case, compared in place on Arrow's buffer (no float copy of the column)."""
    values, present = integers_of(column)
    limits = np.iinfo(values.dtype)
    number = _exact_integer(positive)
    if number is not None and int(limits.min) <= number <= int(limits.max):
        flags = values == values.dtype.type(number)
        if present is not None:
            flags &= present
    else:  # a positive label no value of this column can equal
        flags = np.zeros(values.shape[0], dtype=bool)
    seen = {positive} if flags.any() else set()
    if present is None and values.shape[0]:
        low, high = int(values.min()), int(values.max())
    elif present is not None and present.any():
        low = int(values.min(where=present, initial=limits.max))
        high = int(values.max(where=present, initial=limits.min))
    else:
        low, high = 0, -1  # no value at all
    if high < low:
        others: list[int] = []
    elif high - low <= 1:  # at most two values, both present: the others are those that are not the positive one
        others = [value for value in {low, high} if value != number]  # (None equals no value)
    else:  # the smallest and the largest value besides the positive one, as the float path reports them
        rest = ~flags if present is None else present & ~flags
        others = (
            [int(values.min(where=rest, initial=limits.max)), int(values.max(where=rest, initial=limits.min))]
            if rest.any()
            else []
        )
    seen.update(label_text(value) for value in others)
    return BinaryColumn(flags, np.ones(values.shape[0], dtype=bool) if present is None else present, seen)


def _exact_integer(text: str) -> int | None:
    """The integer a label spells ("1", "1.0", "1e3", "9007199254740993"), exactly; None when it is not one."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    # No integer column holds more than 20 digits; "1e100000000" must not become a 100-million-digit int.
    if not number.is_finite() or number.adjusted() > 20 or number != number.to_integral_value():
        return None
    return int(number)
