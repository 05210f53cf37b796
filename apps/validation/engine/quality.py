"""Data quality of the current dataset: missing values, duplicate rows, schema, declared ranges."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from apps.validation.engine.measure import Measure, plural
from apps.validation.engine.reader import Numbers, encode, numpy_of

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_PRIME1 = np.uint64(0x100000001B3)
_PRIME2 = np.uint64(0xC2B2AE3D27D4EB4F)
_FOLD_BLOCK = 1 << 16  # rows per block of the hash folding: three 512 KiB arrays stay in cache
_NAN_BITS = np.uint64(0x7FF8000000000000)  # the quiet NaN: no number has these bits


def missing_count(column: Any) -> int:
    """Return how many values of a pyarrow column are null, or NaN in a float column."""
    missing = int(column.null_count)
    value_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if pa.types.is_floating(value_type) and not pa.types.is_dictionary(column.type):
        missing += int(pc.sum(pc.is_nan(column)).as_py() or 0)
    return missing


def missing_rate(missing: int, rows: int) -> Measure:
    if rows == 0:
        return Measure.undefined("the current dataset has no rows")
    note = f"{plural(missing, 'value')} of {rows:,} missing" if missing else None
    return Measure.number(missing / rows, note)


class RowHasher:
    """Fold the columns of a table into two 64-bit hashes per row, one column at a time.

    Rows are equal when every value is equal (NaN equals NaN, -0.0 equals 0.0, null equals null).
    Each value becomes a 64-bit key that is equal exactly when the values are, and the keys are
    folded into two differently mixed hashes: a false match of two different rows is then about a
    2**-128 event, so duplicates are counted with sorts instead of comparing every pair of rows.
    """

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.first = np.zeros(rows, dtype=np.uint64)
        self.second = np.zeros(rows, dtype=np.uint64)
        self.columns = 0
        self.skipped: list[str] = []  # columns of types that cannot be compared (nested lists, maps, ...)

    def add(self, column: Any, name: str = "") -> None:
        """Fold one pyarrow column into the row hashes."""
        try:
            keys = _value_keys(column)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            self.skipped.append(name)
            return
        for part in keys:
            self._fold(part)

    def _fold(self, keys: np.ndarray) -> None:
        self.columns += 1
        salt = np.uint64((self.columns * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
        scratch = np.empty(min(_FOLD_BLOCK, keys.shape[0]), dtype=np.uint64)
        # Multiply-xorshift mixing, in place and block by block: every operation then works on
        # data already in the CPU cache, instead of streaming whole columns through memory.
        for start in range(0, keys.shape[0], _FOLD_BLOCK):
            stop = min(start + _FOLD_BLOCK, keys.shape[0])
            key, first, second, spare = (
                keys[start:stop],
                self.first[start:stop],
                self.second[start:stop],
                scratch[: stop - start],
            )
            np.bitwise_xor(key, salt, out=key)
            np.multiply(key, _MIX1, out=key)
            np.right_shift(key, np.uint64(31), out=spare)
            np.bitwise_xor(key, spare, out=key)
            np.bitwise_xor(first, key, out=first)
            np.multiply(first, _PRIME1, out=first)
            np.multiply(key, _MIX2, out=key)
            np.add(second, key, out=second)
            np.right_shift(second, np.uint64(29), out=spare)
            np.bitwise_xor(second, spare, out=second)
            np.multiply(second, _PRIME2, out=second)

    def duplicates(self) -> int:
        """Return how many rows repeat an earlier row."""
        if self.rows < 2:
            return 0
        ordered = np.sort(self.first)
        if not np.any(ordered[1:] == ordered[:-1]):
            return 0  # the common case, settled with one sort
        del ordered
        order = np.argsort(self.first)
        first = self.first[order]
        second = self.second[order]
        tied = first[1:] == first[:-1]
        involved = np.zeros(self.rows, dtype=bool)
        involved[1:] |= tied
        involved[:-1] |= tied
        sub_first, sub_second = first[involved], second[involved]
        sub_order = np.lexsort((sub_second, sub_first))
        sub_first, sub_second = sub_first[sub_order], sub_second[sub_order]
        distinct = 1 + int(np.count_nonzero((sub_first[1:] != sub_first[:-1]) | (sub_second[1:] != sub_second[:-1])))
        return int(np.count_nonzero(involved)) - distinct


def _value_keys(column: Any) -> list[np.ndarray]:
    """Return uint64 arrays (new, writable) whose rows are all equal exactly when the values are equal."""
    kind = column.type
    if pa.types.is_floating(kind):
        values = numpy_of(pc.cast(column, pa.float64()), np.float64, fill=np.nan)
        values[values == 0.0] = 0.0  # -0.0 and 0.0 are the same value
        keys = values.view(np.uint64)
        keys[np.isnan(values)] = _NAN_BITS  # nulls are NaN here, and every NaN is one value
        return [keys]
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        # Unsigned values above 2**63 wrap to negative int64: still one key per value.
        as_int = pc.cast(column, pa.int64(), safe=False)
        keys = numpy_of(as_int, np.int64, fill=0).view(np.uint64)
        if not column.null_count:
            return [keys]
        # Every 64-bit pattern is some integer, so whether a value is null is a key of its own.
        nulls = numpy_of(pc.is_null(column), np.uint64)
        return [keys, nulls]
    # Text (already dictionary-encoded from Parquet), dates and anything else: dictionary codes, -1 for null.
    codes, _ = encode(column)
    return [codes.view(np.uint64)]


def duplicate_rows(duplicates: int, rows: int, skipped: list[str] | None = None) -> Measure:
    notes = []
    if rows == 0:
        notes.append("the current dataset has no rows")
    elif duplicates:
        notes.append(f"{plural(duplicates, 'row')} ({duplicates / rows:.2%}) repeat an earlier row")
    if skipped:
        notes.append(f"columns of nested types were not compared: {_names(skipped)}")
    return Measure(duplicates, "; ".join(notes) or None)


def schema(expected: list[str], actual: list[str], source: str) -> tuple[Measure, str]:
    """Compare the current dataset's columns with the expected ones; return the measure and status.

    Missing columns fail (checks and models depend on them); added columns only warn.
    """
    actual_set, expected_set = set(actual), set(expected)
    missing = [name for name in expected if name not in actual_set]
    added = [name for name in actual if name not in expected_set]
    parts = []
    if missing:
        parts.append(f"missing from the current dataset: {_names(missing)}")
    if added:
        parts.append(f"not in {source}: {_names(added)}")
    note = "; ".join(parts) if parts else f"the current dataset has the columns of {source}"
    status = "fail" if missing else "warn" if added else "pass"
    return Measure(len(missing) + len(added), note), status


def out_of_range(numbers: Numbers, low: float | None, high: float | None) -> Measure:
    """Return how many present values lie outside [low, high]; text that is not a number counts too."""
    values = numbers.values
    with np.errstate(invalid="ignore"):
        outside = np.zeros(values.shape[0], dtype=bool)
        if low is not None:
            outside |= values < low
        if high is not None:
            outside |= values > high
    count = int(np.count_nonzero(outside)) + numbers.invalid + numbers.infinite
    return range_measure(count, numbers.invalid, numbers.infinite, low, high)


def range_measure(count: int, invalid: int, infinite: int, low: float | None, high: float | None) -> Measure:
    """Return the range measure of `count` values outside [low, high], `invalid` and `infinite` among them."""
    notes = []
    if invalid:
        notes.append(f"{plural(invalid, 'value')} {_are(invalid)} not a number")
    if infinite:
        notes.append(f"{plural(infinite, 'value')} {_are(infinite)} infinite")
    if count:
        bounds = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
        notes.insert(0, f"{plural(count, 'value')} lie outside {bounds}")
    return Measure(count, "; ".join(notes) or None)


def _are(count: int) -> str:
    return "is" if count == 1 else "are"


def _names(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit:,} more"
