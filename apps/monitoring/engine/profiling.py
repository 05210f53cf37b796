"""Profile a predictions batch: its exact counts per time bucket, with the validation engine's readers.

Each count is what the validation family of the same check computes on a whole dataset, taken on
the rows of one bucket: to_numbers for numeric features (the same missing, invalid and infinite
rules), to_categories for categories, binary_column for labels, the fairness count table, the
quality missing counts and range test. Summing the counts of the buckets of a window therefore
gives the counts validation would compute on the window's rows put together.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from apps.monitoring.engine.batches import MAX_AGE, MAX_FUTURE, read_predictions
from apps.monitoring.engine.profile import Groups, Labels, Profile
from apps.monitoring.engine.reference import Reference
from apps.monitoring.engine.tables import Source
from apps.validation.engine import quality
from apps.validation.engine.fairness import count_table
from apps.validation.engine.families.common import read_binary
from apps.validation.engine.reader import encode, numpy_of, to_categories, to_labels, to_numbers, unify
from apps.validation.engine.spec import Spec

DAY = 86_400
_MICROS = 1_000_000


def _missing_flags(column: Any) -> np.ndarray | None:
    """Flag the values quality.missing_count counts (null, or NaN in a float column); None when there are none."""
    value_type = column.type
    floating = pa.types.is_floating(value_type)
    if not column.null_count and not floating:
        return None
    if floating:
        return np.isnan(numpy_of(column, np.float64, fill=np.nan))
    return numpy_of(pc.is_null(column), np.bool_)


def bin_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Return each value's PSI bin: the number of edges strictly below it (searchsorted "left"), 0 for NaN.

    With ten edges at most, one comparison pass per edge is faster than a binary search per value.
    """
    codes = np.zeros(values.shape[0], dtype=np.int8)  # at most 10 edges (deciles), so codes fit a byte
    above = np.empty(values.shape[0], dtype=bool)
    with np.errstate(invalid="ignore"):
        for edge in edges:
            np.greater(values, edge, out=above)
            codes += above.view(np.int8)
    return codes


def range_key(column: str, low: float | None, high: float | None) -> str:
    """The key of a range check's counts in a profile."""
    return json.dumps([column, low, high])


def profile_batch(
    source: Source,
    reference: Reference,
    *,
    now: datetime,
    outcomes: Sequence[Source] = (),
    bucket_seconds: int = 3600,
    max_age: timedelta = MAX_AGE,
    max_future: timedelta = MAX_FUTURE,
) -> list[Profile]:
    """Return the batch's profiles, one per UTC time bucket its rows fall in, earliest first.

    `outcomes` are outcome batches in the order they arrived: the last one naming a prediction id
    gives that prediction its target. Raises BatchError, with a sentence for a person, when the
    batch or an outcomes file cannot be used; nothing is counted then.
    """
    if bucket_seconds <= 0 or DAY % bucket_seconds:
        raise ValueError("bucket_seconds must divide a day (3600 for hours, 86400 for days)")
    table, micros, _ = read_predictions(
        source, reference, now=now, outcomes=outcomes, max_age=max_age, max_future=max_future
    )
    buckets = micros // (bucket_seconds * _MICROS)
    if buckets.shape[0] > 1 and np.any(buckets[1:] < buckets[:-1]):
        order = np.argsort(buckets, kind="stable")
        table = table.take(order)
        buckets = buckets[order]
    edges = np.flatnonzero(buckets[1:] != buckets[:-1]) + 1
    starts = np.concatenate([[0], edges]).astype(np.int64)
    stops = np.concatenate([edges, [buckets.shape[0]]]).astype(np.int64)
    counter = _Counter(reference, table)
    return [
        counter.profile(int(begin), int(stop), int(buckets[begin]) * bucket_seconds, bucket_seconds)
        for begin, stop in zip(starts, stops, strict=True)
        if stop > begin
    ]


class _Counter:
    """Count the rows of each bucket of a batch (sorted by bucket) against a reference.

    Every column is converted once for the whole batch (bin and category codes, missing flags), and
    each bucket counts its slice of those arrays; the labels, whose distinct values are part of the
    profile, are read per bucket.
    """

    def __init__(self, reference: Reference, table: Any) -> None:
        self.reference = reference
        self.spec: Spec = reference.spec
        self.table = table
        _, checks, _, _ = reference.plan(reference.spec)
        self.ranges = [
            (check.column, check.thresholds.min, check.thresholds.max)
            for check in checks
            if check.check == "quality" and check.metric == "range" and check.column is not None
        ]
        self.bins: dict[str, np.ndarray | None] = {}
        for name, bins in reference.numeric.items():
            numbers = to_numbers(table.column(name))
            if numbers.invalid or numbers.infinite:
                self.bins[name] = None  # rare: counted per bucket by to_numbers, which tells the three apart
                continue
            codes = bin_codes(numbers.values, bins.edges)
            if numbers.missing:
                codes[np.isnan(numbers.values)] = len(bins.counts)  # a slot past the bins for the missing values
            self.bins[name] = codes
        # Missing values of a numeric feature are its codes past the bins; the other columns are flagged.
        self.missing = {
            name: _missing_flags(table.column(name)) for name in table.column_names if self.bins.get(name) is None
        }
        self.group_codes: dict[str, tuple[np.ndarray, list[str], list[Any]]] = {}
        self.categories = {}
        for name in reference.categorical:
            encoded = to_categories(table.column(name))
            self.categories[name] = (np.where(encoded.codes >= 0, encoded.codes, len(encoded.texts)), encoded.texts)

    def profile(self, start: int, stop: int, bucket: int, bucket_seconds: int) -> Profile:
        rows = slice(start, stop)
        table = self.table.slice(start, stop - start)
        profile = Profile(reference=self.reference.key, start=bucket, bucket_seconds=bucket_seconds, rows=stop - start)
        for name, flags in self.missing.items():
            profile.missing[name] = 0 if flags is None else int(np.count_nonzero(flags[rows]))
        for name, bins in self.reference.numeric.items():
            codes = self.bins[name]
            size = len(bins.counts)
            if codes is None:
                numbers = to_numbers(table.column(name))
                counts = np.bincount(np.searchsorted(bins.edges, numbers.values, side="left"), minlength=size)
                counts[-1] -= numbers.excluded  # NaN (every value left out) sorts past the last edge
                excluded = [numbers.missing, numbers.invalid, numbers.infinite]
            else:
                counts = np.bincount(codes[rows], minlength=size + 1)
                excluded = [int(counts[size]), 0, 0]
                profile.missing[name] = int(counts[size])  # null or NaN: missing_count's definition
            profile.bins[name] = [int(count) for count in counts[:size]]
            profile.excluded[name] = excluded
        for name, (codes, texts) in self.categories.items():
            counts = np.bincount(codes[rows], minlength=len(texts) + 1)
            into: dict[str, int] = {}
            for code in np.flatnonzero(counts[: len(texts)]):
                into[texts[code]] = into.get(texts[code], 0) + int(counts[code])
            profile.categories[name] = into
            profile.category_missing[name] = int(counts[len(texts)])
        for column, low, high in self.ranges:
            numbers = to_numbers(table.column(column))
            measure = quality.out_of_range(numbers, low, high)
            profile.ranges[range_key(column, low, high)] = [int(measure.value or 0), numbers.invalid, numbers.infinite]
        target = self.spec.columns.target
        if target is not None:
            profile.labelled = profile.rows - profile.missing[target]
        if self.spec.task == "binary_classification":
            self._binary(table, profile, rows)
        elif self.spec.task == "multiclass" and target is not None and self.spec.columns.prediction is not None:
            self._multiclass(table, profile)
        return profile

    def _binary(self, table: Any, profile: Profile, span: slice) -> None:
        read = read_binary(self.spec, table.column)
        if isinstance(read, str):
            profile.labels = Labels(error=read)
            return
        labels = profile.labels
        labels.seen = set().union(*(column.seen for column in read.values()))
        target, prediction = read.get("target"), read.get("prediction")
        if target is not None and prediction is not None:
            both = target.present & prediction.present
            positive_target = target.positive & both
            positive_prediction = prediction.positive & both
            labels.both = int(np.count_nonzero(both))
            labels.true_positives = int(np.count_nonzero(positive_target & positive_prediction))
            labels.predicted = int(np.count_nonzero(positive_prediction))
            labels.actual = int(np.count_nonzero(positive_target))
            labels.correct = labels.both - int(np.count_nonzero(positive_target ^ positive_prediction))
        if prediction is None:
            return
        usable = prediction.present.copy()
        if target is not None:
            usable &= target.present
        labels.usable = int(np.count_nonzero(usable))
        for attribute in self.spec.columns.sensitive:
            indices, texts, keys = self._groups(attribute)
            indices = indices[span]
            rows = usable & (indices >= 0)
            counts = count_table(
                indices, prediction.positive, target.positive if target else None, rows, len(texts)
            ).reshape(len(texts), 4)
            groups = Groups(without_group=int(np.count_nonzero(usable & (indices < 0))))
            for code in np.flatnonzero(counts.sum(axis=1)):
                text = texts[code]
                key = keys[code]
                groups.keys[text] = key if isinstance(key, bool | int | float | str) else text
                previous = groups.counts.get(text, [0, 0, 0, 0])
                groups.counts[text] = [a + int(b) for a, b in zip(previous, counts[code], strict=True)]
            profile.fairness[attribute] = groups

    def _groups(self, attribute: str) -> tuple[np.ndarray, list[str], list[Any]]:
        """The attribute's group codes for the whole batch, its group texts and values (read once)."""
        if attribute not in self.group_codes:
            indices, dictionary = encode(self.table.column(attribute))
            texts = [str(text) for text in pc.cast(dictionary, "string").to_pylist()] if len(dictionary) else []
            self.group_codes[attribute] = (indices, texts, dictionary.to_pylist())
        return self.group_codes[attribute]

    def _multiclass(self, table: Any, profile: Profile) -> None:
        columns = self.spec.columns
        assert columns.target is not None
        assert columns.prediction is not None
        try:
            target = to_labels(table.column(columns.target))
            prediction = to_labels(table.column(columns.prediction))
        except ValueError as exc:
            profile.labels = Labels(error=f"A label column has {exc}.")
            return
        target_codes, prediction_codes, classes = unify(target, prediction)
        rows = (target_codes >= 0) & (prediction_codes >= 0)
        y_true, y_pred = target_codes[rows], prediction_codes[rows]
        size = len(classes)
        correct = np.bincount(y_true[y_true == y_pred], minlength=size)
        actual = np.bincount(y_true, minlength=size)
        predicted = np.bincount(y_pred, minlength=size)
        profile.labels.both = int(y_true.shape[0])
        for code in np.flatnonzero(actual + predicted):
            profile.labels.classes[classes[code]] = [int(correct[code]), int(actual[code]), int(predicted[code])]
