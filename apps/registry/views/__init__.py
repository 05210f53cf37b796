"""Registry pages: models, versions, model cards, the data catalogue and search (one module each)."""

from __future__ import annotations

from apps.registry.views.catalogue import catalogue
from apps.registry.views.datasets import (
    dataset_create,
    dataset_detail,
    dataset_edit,
    dataset_list,
    dataset_version_download,
    dataset_version_link,
    dataset_version_upload,
)
from apps.registry.views.versions import (
    card_edit,
    model_create,
    model_detail,
    model_list,
    version_create,
    version_detail,
    version_edit,
)

__all__ = [
    "card_edit",
    "catalogue",
    "dataset_create",
    "dataset_detail",
    "dataset_edit",
    "dataset_list",
    "dataset_version_download",
    "dataset_version_link",
    "dataset_version_upload",
    "model_create",
    "model_detail",
    "model_list",
    "version_create",
    "version_detail",
    "version_edit",
]
