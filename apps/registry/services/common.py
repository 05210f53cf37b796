"""What the registry's services share: which fields each kind of record has, and the refusal they give."""

from __future__ import annotations

from apps.registry import permissions as can

BUILD_DENIED = can.BUILD_DENIED
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
