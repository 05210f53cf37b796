"""The monitoring engine: exact, mergeable batch profiles and a window's results, no database.

    reference = build_reference(reference_path, spec)          # once per monitor; to_dict() is JSON
    profiles = profile_batch(batch_path, reference, now=now)   # per batch: one Profile per time bucket
    results = window_results(day_profiles, reference)          # the results of a validation run
    results = window_results(day_profiles, reference, raw=RawWindow(reference_path, batch_paths))

Pure computation on numpy and pyarrow, with the validation engine's definitions and functions (the
same metrics, computed the same way); docs/monitoring-engine.md describes it.
"""

from __future__ import annotations

from apps.monitoring.engine.batches import check_outcomes
from apps.monitoring.engine.errors import BatchError
from apps.monitoring.engine.profile import Profile, merge
from apps.monitoring.engine.profiling import profile_batch
from apps.monitoring.engine.raw import RawWindow
from apps.monitoring.engine.reference import Reference, build_reference
from apps.monitoring.engine.series import Series, window_series
from apps.monitoring.engine.window import RAW_METRICS, window_results
from apps.validation.engine.runner import overall_status

__all__ = [
    "RAW_METRICS",
    "BatchError",
    "Profile",
    "RawWindow",
    "Reference",
    "Series",
    "build_reference",
    "check_outcomes",
    "merge",
    "overall_status",
    "profile_batch",
    "window_results",
    "window_series",
]
