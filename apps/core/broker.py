"""The embedded default's task broker: folders on disk (Celery's filesystem transport)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def ensure_broker_folders() -> None:
    """Create the folders of the filesystem transport (the embedded default) if they are missing."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)
