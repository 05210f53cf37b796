"""What the registry's services share: which fields each kind of record has, and the refusal they give."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from apps.registry.models import DatasetVersion, ModelVersion

# What reviewers sign: frozen once the version leaves draft (metrics are evaluation evidence too).
ARTIFACT_FIELDS = (
    "artifact_uri",
    "artifact_sha256",
    "framework",
    "training_dataset",
    "parent",
    "source_run_id",
    "metrics",
)
VERSION_FIELDS = (*ARTIFACT_FIELDS, "description")
MODEL_FIELDS = ("name", "task", "description")
DATASET_FIELDS = ("name", "description", "source", "sensitivity", "contains_personal_data")


class VersionFields(TypedDict, total=False):
    """What a version's creator gives and its editors change; a field left out keeps its value."""

    artifact_uri: str
    artifact_sha256: str
    framework: str
    training_dataset: DatasetVersion | None
    parent: ModelVersion | None
    source_run_id: str
    metrics: dict[str, Any]
    description: str


class DatasetDetails(TypedDict, total=False):
    description: str
    source: str
    sensitivity: str
    contains_personal_data: bool


class DatasetFields(DatasetDetails, total=False):
    name: str


def only_known(fields: Any, known: tuple[str, ...], service: str) -> dict[str, Any]:
    """Return ``fields`` as a plain dict; a caller passing an untyped mapping gets a TypeError for a stray key."""
    stray = sorted(set(fields) - set(known))
    if stray:
        raise TypeError(f"{service}() got unexpected keyword arguments {stray}")
    return dict(fields)
