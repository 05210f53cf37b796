"""The two ways a run can be refused before any check result exists."""

from __future__ import annotations


class SpecError(Exception):
    """The suite is not valid; str(exc) tells a person what to change in the JSON."""


class InputError(Exception):
    """A dataset cannot be used (missing, not CSV/Parquet, damaged, hostile, lacking a named column)."""
