"""The one place the Django side calls the monitoring engine (apps/monitoring/engine, pure computation).

Services hand it paths and stored JSON and get back plain data: the reference's stored state, a
batch's row count, one serialised profile per UTC hour, a window's results. Everything the engine
refuses is a ``BatchError`` with a sentence for a person; anything else it raises is a bug or an
infrastructure failure (the task is retried).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apps.monitoring import engine
from apps.monitoring.choices import BUCKET_SECONDS
from apps.monitoring.engine.batches import read_ids
from apps.validation.engine import parse_spec

BatchError = engine.BatchError


@dataclass(frozen=True)
class HourProfile:
    start: datetime
    rows: int
    labelled: int
    data: bytes


def reference_state(path: Path, spec: dict[str, Any], *, id_column: str, timestamp_column: str) -> dict[str, Any]:
    """Build the engine's Reference of the file at ``path`` once; return it JSON-safe for the monitor row."""
    built = engine.build_reference(path, parse_spec(spec), id_column=id_column, timestamp_column=timestamp_column)
    return dict(built.to_dict())


def _reference(state: dict[str, Any]) -> Any:
    return engine.Reference.from_dict(state)


def check_predictions(path: Path, state: dict[str, Any], *, now: datetime) -> int:
    """Check a predictions batch as the worker will profile it; return its row count (BatchError if unusable)."""
    profiles = engine.profile_batch(path, _reference(state), now=now, bucket_seconds=BUCKET_SECONDS)
    return sum(int(p.rows) for p in profiles)


def prediction_ids(path: Path, state: dict[str, Any]) -> list[str]:
    """The prediction ids of a checked predictions batch, as text (an integer id as its digits)."""
    ids = read_ids(path, _reference(state))
    return [str(value) for value in ids.to_pylist()]


def check_outcomes(path: Path, state: dict[str, Any]) -> int:
    """Check an outcomes batch (ids and labels); return its row count (BatchError if unusable)."""
    return int(engine.check_outcomes(path, _reference(state)))


def profile(path: Path, state: dict[str, Any], *, now: datetime, outcomes: Sequence[Path] = ()) -> list[HourProfile]:
    """Profile a predictions batch per UTC hour, its targets joined from ``outcomes`` (in arrival order)."""
    profiles = engine.profile_batch(
        path, _reference(state), now=now, outcomes=list(outcomes), bucket_seconds=BUCKET_SECONDS
    )
    return [HourProfile(_start(p.start), int(p.rows), int(p.labelled), p.to_bytes()) for p in profiles]


def _start(start: datetime | int) -> datetime:
    """A profile's start as an aware UTC datetime (the engine may give seconds since 1970)."""
    return start if isinstance(start, datetime) else datetime.fromtimestamp(int(start), tz=UTC)


def window(
    profiles: Sequence[bytes],
    state: dict[str, Any],
    *,
    reference_path: Path | None,
    predictions: Sequence[Path] = (),
    outcomes: Sequence[Path] = (),
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """The results of a window from its hours' profiles; with the raw batches, the metrics that need rows too."""
    raw = None
    if reference_path is not None and predictions:
        raw = engine.RawWindow(reference_path, list(predictions), list(outcomes), start=start, end=end)
    loaded = [engine.Profile.from_bytes(data) for data in profiles]
    return list(engine.window_results(loaded, _reference(state), raw=raw))
