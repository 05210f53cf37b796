"""A batch's exact summary over one time bucket, and how summaries merge.

Everything in a Profile is an integer count (or a set of label spellings), so the profile of a
window is the sum of its batches' profiles whatever the order and however the rows were split
into batches: merging is addition of integers and union of sets, both associative and commutative.
Profiles are stored as UTF-8 JSON with sorted keys, never pickled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apps.monitoring.engine.errors import BatchError

FORMAT_VERSION = 1
_INTEGER = {int}  # exactly int: JSON's true and false parse as bool, a subclass, and are refused


@dataclass
class Labels:
    """Counts of a window's binary (or multiclass) labels; `error` says why they are unusable."""

    error: str | None = None
    seen: set[str] = field(default_factory=set)  # label spellings of target and prediction (validation's `seen`)
    # Binary: rows with both a target and a prediction; of them true positives, predicted and actual
    # positives, and rows where target and prediction agree.
    both: int = 0
    true_positives: int = 0
    predicted: int = 0
    actual: int = 0
    correct: int = 0
    usable: int = 0  # rows with a prediction (and a target when the suite maps one): fairness counts these
    # Multiclass: class spelling -> [correct, in the target, in the prediction] over rows with both.
    classes: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class Groups:
    """One sensitive attribute: per group its sort key and [group, actual, predicted] counts."""

    without_group: int = 0
    keys: dict[str, Any] = field(default_factory=dict)  # group text -> its value, for the natural order
    counts: dict[str, list[int]] = field(default_factory=dict)  # group text -> [a0p0, a0p1, a1p0, a1p1]


@dataclass
class Profile:
    """The exact summary of a batch's rows that fall in one time bucket (or of a merged window)."""

    reference: str  # Reference.key of the reference it was profiled against
    start: int  # the bucket's start, seconds since 1970-01-01 UTC
    bucket_seconds: int
    rows: int = 0
    labelled: int = 0  # rows with a target value
    missing: dict[str, int] = field(default_factory=dict)  # every window column -> null (or NaN) values
    bins: dict[str, list[int]] = field(default_factory=dict)  # numeric feature -> count per reference bin
    excluded: dict[str, list[int]] = field(default_factory=dict)  # numeric feature -> [missing, invalid, infinite]
    categories: dict[str, dict[str, int]] = field(default_factory=dict)  # categorical feature -> text -> rows
    category_missing: dict[str, int] = field(default_factory=dict)
    ranges: dict[str, list[int]] = field(default_factory=dict)  # range key -> [outside, invalid, infinite]
    labels: Labels = field(default_factory=Labels)
    fairness: dict[str, Groups] = field(default_factory=dict)

    @property
    def start_time(self) -> datetime:
        return datetime.fromtimestamp(self.start, tz=UTC)

    def to_dict(self) -> dict[str, Any]:
        labels = self.labels
        return {
            "version": FORMAT_VERSION,
            "reference": self.reference,
            "start": self.start,
            "bucket_seconds": self.bucket_seconds,
            "rows": self.rows,
            "labelled": self.labelled,
            "missing": self.missing,
            "bins": self.bins,
            "excluded": self.excluded,
            "categories": self.categories,
            "category_missing": self.category_missing,
            "ranges": self.ranges,
            "labels": {
                "error": labels.error,
                "seen": sorted(labels.seen),
                "counts": [labels.both, labels.true_positives, labels.predicted, labels.actual, labels.correct],
                "usable": labels.usable,
                "classes": labels.classes,
            },
            "fairness": {
                name: {"without_group": groups.without_group, "keys": groups.keys, "counts": groups.counts}
                for name, groups in self.fairness.items()
            },
        }

    def to_bytes(self) -> bytes:
        """Return the profile as compact UTF-8 JSON with sorted keys: equal profiles give equal bytes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Read a profile written by to_bytes; BatchError if the bytes are not one."""
        try:
            return cls.from_dict(json.loads(data.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BatchError("The stored profile is damaged: it is not UTF-8 JSON.") from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        """Rebuild a profile from to_dict's JSON object; BatchError if it is not one.

        Every count is checked to be a non-negative integer, all of them in one pass at the end.
        """
        counts: list[Any] = []  # every count read, checked together
        lists = _Lists(counts)
        try:
            if data["version"] != FORMAT_VERSION:
                raise BatchError(f"The stored profile has format {data['version']!r}; profile the batch again.")
            labels = data["labels"]
            both, true_positives, predicted, actual, correct = lists.items(labels["counts"])
            scalars = [data["bucket_seconds"], data["rows"], data["labelled"], labels["usable"]]
            counts.extend(scalars)
            profile = cls(
                reference=str(data["reference"]),
                start=int(data["start"]),
                bucket_seconds=scalars[0],
                rows=scalars[1],
                labelled=scalars[2],
                missing=lists.mapping(data["missing"]),
                bins=lists.lists(data["bins"]),
                excluded=lists.lists(data["excluded"]),
                categories={name: lists.mapping(values) for name, values in lists.objects(data["categories"])},
                category_missing=lists.mapping(data["category_missing"]),
                ranges=lists.lists(data["ranges"]),
                labels=Labels(
                    error=None if labels["error"] is None else str(labels["error"]),
                    seen={str(text) for text in labels["seen"]},
                    both=both,
                    true_positives=true_positives,
                    predicted=predicted,
                    actual=actual,
                    correct=correct,
                    usable=scalars[3],
                    classes=lists.lists(labels["classes"]),
                ),
                fairness={
                    name: Groups(
                        without_group=item["without_group"],
                        keys={text: _key(key) for text, key in item["keys"].items()},
                        counts=lists.lists(item["counts"]),
                    )
                    for name, item in lists.objects(data["fairness"])
                },
            )
            counts.extend(groups.without_group for groups in profile.fairness.values())
            if not set(map(type, counts)) <= _INTEGER or min(counts, default=0) < 0:
                raise ValueError("a count must be a non-negative integer")
            return profile
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BatchError(f"The stored profile is damaged or not a profile ({type(exc).__name__}).") from exc


class _Lists:
    """Read the containers of a stored profile, collecting their counts for one check at the end."""

    def __init__(self, counts: list[Any]) -> None:
        self.counts = counts

    def items(self, values: Any) -> list[Any]:
        if type(values) is not list:
            raise TypeError("counts must be a list")
        self.counts.extend(values)
        return values

    def mapping(self, values: Any) -> dict[str, int]:
        if type(values) is not dict:
            raise TypeError("counts must be an object")
        self.counts.extend(values.values())
        return values

    def objects(self, values: Any) -> Any:
        if type(values) is not dict:
            raise TypeError("expected an object")
        return values.items()

    def lists(self, values: Any) -> dict[str, list[int]]:
        for items in self.objects(values):
            self.items(items[1])
        return values


def merge(profiles: Iterable[Profile]) -> Profile:
    """Return the exact sum of `profiles` (of one reference): the profile of all their rows together.

    The result does not depend on the order of `profiles` or on how rows were split among them.
    Raises BatchError when there is no profile or they come from different references.
    """
    items = list(profiles)
    if not items:
        raise BatchError("A window needs at least one profile.")
    references = {item.reference for item in items}
    if len(references) > 1:
        raise BatchError("These profiles were made against different references and cannot be merged.")
    total = Profile(
        reference=items[0].reference,
        start=min(item.start for item in items),
        bucket_seconds=max(item.bucket_seconds for item in items),
    )
    errors = []
    for item in items:
        total.rows += item.rows
        total.labelled += item.labelled
        _add(total.missing, item.missing)
        _add_lists(total.bins, item.bins)
        _add_lists(total.excluded, item.excluded)
        for name, counts in item.categories.items():
            _add(total.categories.setdefault(name, {}), counts)
        _add(total.category_missing, item.category_missing)
        _add_lists(total.ranges, item.ranges)
        labels, into = item.labels, total.labels
        if labels.error is not None:
            errors.append(labels.error)
        into.seen |= labels.seen
        into.both += labels.both
        into.true_positives += labels.true_positives
        into.predicted += labels.predicted
        into.actual += labels.actual
        into.correct += labels.correct
        into.usable += labels.usable
        _add_lists(into.classes, labels.classes)
        for name, groups in item.fairness.items():
            target = total.fairness.setdefault(name, Groups())
            target.without_group += groups.without_group
            for text, key in groups.keys.items():
                target.keys.setdefault(text, key)
            _add_lists(target.counts, groups.counts)
    total.labels.error = min(errors) if errors else None  # the same message whatever the order
    return total


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for name, count in counts.items():
        into[name] = into.get(name, 0) + count


def _add_lists(into: dict[str, list[int]], counts: dict[str, list[int]]) -> None:
    for name, values in counts.items():
        current = into.get(name)
        if current is None:
            into[name] = list(values)
        elif len(current) != len(values):
            raise BatchError(f"The profiles disagree on the shape of {name!r}; profile the batches again.")
        else:
            into[name] = [a + b for a, b in zip(current, values, strict=True)]


def _key(value: Any) -> Any:
    if value is not None and not isinstance(value, bool | int | float | str):
        raise TypeError("a group key must be a JSON scalar")
    return value
