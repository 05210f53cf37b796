"""Governed changes to the registry and the data catalogue. Each one writes its audit event.

One module per concern; callers keep importing ``from apps.registry import services``.
"""

from __future__ import annotations

from apps.registry.services.cards import card_update
from apps.registry.services.catalogue import model_create, model_update
from apps.registry.services.common import DATASET_FIELDS, VERSION_FIELDS
from apps.registry.services.datasets import (
    dataset_create,
    dataset_update,
    dataset_version_link,
    dataset_version_upload,
)
from apps.registry.services.versions import version_create, version_update

__all__ = [
    "DATASET_FIELDS",
    "VERSION_FIELDS",
    "card_update",
    "dataset_create",
    "dataset_update",
    "dataset_version_link",
    "dataset_version_upload",
    "model_create",
    "model_update",
    "version_create",
    "version_update",
]
