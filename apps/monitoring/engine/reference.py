"""The reference a monitor compares production with, read once from the reference dataset.

It keeps what every window needs from the reference without reading the file again: the suite,
the reference's columns and types, for each numeric feature the PSI bin edges exactly as validation
cuts them (the unique deciles of the reference's present values, engine/drift.py) and the
reference's count in each bin, and for each categorical feature its category counts. Because the
bins are fixed here, a batch's counts in them can be summed over any window and PSI stays exact.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from apps.monitoring.engine.errors import BatchError
from apps.monitoring.engine.tables import Source, open_source
from apps.validation.engine import drift
from apps.validation.engine.errors import InputError, SpecError
from apps.validation.engine.parsing import parse_spec
from apps.validation.engine.planning import Features, plan_checks, resolve_features
from apps.validation.engine.reader import Dataset, to_categories, to_numbers
from apps.validation.engine.spec import Check, Spec

FORMAT_VERSION = 1


@dataclass(frozen=True)
class NumericReference:
    """A numeric feature's PSI bins: edges, the reference's count per bin, what it left out."""

    edges: np.ndarray  # float64, increasing; bin i holds edge[i-1] < v <= edge[i]
    counts: np.ndarray  # int64, len(edges) + 1
    missing: int
    invalid: int
    infinite: int


@dataclass(frozen=True)
class CategoricalReference:
    counts: dict[str, int]  # category text (as validation spells it) -> rows
    missing: int


@dataclass(frozen=True)
class Reference:
    """What a monitor's windows are compared with; to_dict()/from_dict() store it as JSON."""

    spec: Spec
    id_column: str
    timestamp_column: str
    file_name: str
    file_format: str
    row_count: int
    kinds: dict[str, str]  # the reference dataset's columns, in file order, and their coarse types
    numeric: dict[str, NumericReference] = field(default_factory=dict)
    categorical: dict[str, CategoricalReference] = field(default_factory=dict)

    @cached_property
    def window_kinds(self) -> dict[str, str]:
        """The columns of a window's data: the reference's, and the target at the end if it lacks one."""
        kinds = dict(self.kinds)
        target = self.spec.columns.target
        if target is not None and target not in kinds:
            kinds[target] = "other"
        return kinds

    @cached_property
    def batch_columns(self) -> list[str]:
        """The data columns a predictions batch carries besides its id and timestamp (not the target)."""
        return [name for name in self.window_kinds if name != self.spec.columns.target]

    @cached_property
    def key(self) -> str:
        """A digest of the reference, stamped on its profiles so profiles of two references never merge."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def datasets(self, rows: int) -> tuple[Dataset, Dataset]:
        """Return stand-ins for the reference and a window's data of `rows` rows, for the validation planner."""
        path = Path(self.file_name)
        reference = Dataset("reference", path, self.file_format, self.row_count, dict(self.kinds))
        current = Dataset("current", Path("window"), "parquet", rows, dict(self.window_kinds))
        return reference, current

    def plan(self, spec: Spec, rows: int = 0) -> tuple[Features, list[Check], Dataset, Dataset]:
        """Settle the features and checks of `spec` exactly as a validation run on the window's data would."""
        reference, current = self.datasets(rows)
        try:
            features = resolve_features(spec, reference, current)
            checks = plan_checks(spec, features)
        except InputError as exc:
            raise BatchError(str(exc)) from exc
        return features, checks, reference, current

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "spec": self.spec.to_dict(),
            "id_column": self.id_column,
            "timestamp_column": self.timestamp_column,
            "file": {"name": self.file_name, "format": self.file_format, "rows": self.row_count},
            "columns": [[name, kind] for name, kind in self.kinds.items()],
            "numeric": {
                name: {
                    "edges": [float(edge) for edge in item.edges],
                    "counts": [int(count) for count in item.counts],
                    "missing": item.missing,
                    "invalid": item.invalid,
                    "infinite": item.infinite,
                }
                for name, item in self.numeric.items()
            },
            "categorical": {
                name: {"counts": dict(item.counts), "missing": item.missing} for name, item in self.categorical.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        """Rebuild a stored reference; BatchError if the data is not one to_dict wrote."""
        try:
            if data["version"] != FORMAT_VERSION:
                raise BatchError(f"The stored reference has format {data['version']!r}; rebuild it from the dataset.")
            numeric = {
                str(name): NumericReference(
                    edges=np.array(item["edges"], dtype=np.float64),
                    counts=np.array(item["counts"], dtype=np.int64),
                    missing=int(item["missing"]),
                    invalid=int(item["invalid"]),
                    infinite=int(item["infinite"]),
                )
                for name, item in data["numeric"].items()
            }
            categorical = {
                str(name): CategoricalReference(
                    counts={str(text): int(count) for text, count in item["counts"].items()},
                    missing=int(item["missing"]),
                )
                for name, item in data["categorical"].items()
            }
            return cls(
                spec=parse_spec(data["spec"]),
                id_column=str(data["id_column"]),
                timestamp_column=str(data["timestamp_column"]),
                file_name=str(data["file"]["name"]),
                file_format=str(data["file"]["format"]),
                row_count=int(data["file"]["rows"]),
                kinds={str(name): str(kind) for name, kind in data["columns"]},
                numeric=numeric,
                categorical=categorical,
            )
        except (KeyError, TypeError, ValueError, AttributeError, SpecError) as exc:
            raise BatchError(f"The stored reference is damaged or not a reference ({type(exc).__name__}).") from exc


def build_reference(
    path: Source, spec: Spec, *, id_column: str = "prediction_id", timestamp_column: str = "timestamp"
) -> Reference:
    """Read the reference dataset once and return the Reference of a monitor using `spec`.

    Raises BatchError when the file cannot be used (the validation reader's reasons), when the
    suite names a column the file lacks, or when the id or timestamp column names clash with it.
    """
    dataset = open_source(path, "reference dataset")
    if id_column == timestamp_column:
        raise BatchError("The id column and the timestamp column need two different names.")
    roles = set(spec.columns.roles)
    for name, role in ((id_column, "id"), (timestamp_column, "timestamp")):
        if not name.strip():
            raise BatchError(f"The {role} column needs a name.")
        if name in dataset.kinds or name in roles:
            raise BatchError(
                f"The monitor's {role} column {name!r} is also a column of the reference dataset or of the suite; "
                "choose another name for it."
            )
    shell = Reference(
        spec=spec,
        id_column=id_column,
        timestamp_column=timestamp_column,
        file_name=dataset.path.name,
        file_format=dataset.format,
        row_count=dataset.row_count,
        kinds=dict(dataset.kinds),
    )
    features, _, _, _ = shell.plan(spec)
    dataset.want(features.numeric + features.categorical)
    try:
        numeric = {name: _numeric(dataset, name) for name in features.numeric}
        categorical = {name: _categorical(dataset, name) for name in features.categorical}
    except InputError as exc:
        raise BatchError(str(exc)) from exc
    return replace(shell, numeric=numeric, categorical=categorical)


def _numeric(dataset: Dataset, name: str) -> NumericReference:
    sample = drift.sample(to_numbers(dataset.column(name)))
    values = sample.values
    edges = drift.psi_edges(values) if values.shape[0] else np.empty(0, dtype=np.float64)
    counts = drift.bin_counts(values, edges).astype(np.int64)
    dataset.release(name)
    return NumericReference(edges, counts, sample.missing, sample.invalid, sample.infinite)


def _categorical(dataset: Dataset, name: str) -> CategoricalReference:
    codes = to_categories(dataset.column(name))
    counts = np.bincount(codes.codes[codes.codes >= 0], minlength=len(codes.texts))
    dataset.release(name)
    return CategoricalReference(
        counts={text: int(count) for text, count in zip(codes.texts, counts, strict=True) if count},
        missing=codes.missing,
    )
