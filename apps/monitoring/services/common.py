"""What the monitoring services share: task names, sending them after commit, files in storage, who hears."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from apps.core.queue import enqueue
from apps.monitoring.models import Batch, Monitor
from apps.projects.choices import ProjectRole
from apps.projects.selectors import project_people

logger = logging.getLogger("apps.monitoring.services")

# Sent by name (apps/core/queue.py): apps.monitoring.tasks imports these services.
PROFILE_BATCH = "apps.monitoring.tasks.profile_batch"
COMPUTE_WINDOWS = "apps.monitoring.tasks.compute_windows"
INGEST_SOURCE = "apps.monitoring.tasks.ingest_source"
ACTOR = "monitoring"  # the trail's name for Signet's own monitoring work (workers, the periodic checks)


def send_after_commit(task: str, *args: Any, batch_id: int | None = None) -> None:
    """Send ``task`` once the transaction commits; a broker that is down leaves a batch to the sweep."""

    def send() -> None:
        try:
            enqueue(task, *args)
        except Exception:  # noqa: BLE001 - kombu's errors while the broker is down vary; the rows are safe
            logger.warning("monitoring: the broker is unreachable; %s waits for the sweep", task)
            if batch_id is not None:
                Batch.objects.filter(pk=batch_id).update(enqueued_at=None)

    transaction.on_commit(send, robust=True)


def store(path: Path, name: str) -> str:
    """Copy the file at ``path`` into Django storage under ``name``; return the name it got."""
    with path.open("rb") as source:
        return default_storage.save(name, File(source))


def store_bytes(data: bytes, name: str) -> str:
    return default_storage.save(name, ContentFile(data))


def discard(*names: str) -> None:
    """Remove files from storage; a file already gone is not an error."""
    for name in names:
        if name:
            with contextlib.suppress(FileNotFoundError, OSError):
                default_storage.delete(name)


@contextlib.contextmanager
def local_files(names: list[str]) -> Iterator[list[Path]]:
    """Paths on this machine of stored files: the files themselves on a local storage, else copies."""
    try:
        local = [Path(default_storage.path(name)) for name in names]
    except NotImplementedError:
        local = None  # object storage: copy each file to a temporary folder for the engine
    if local is not None:
        yield local
        return
    folder = Path(tempfile.mkdtemp(prefix="signet-monitoring-"))
    try:
        paths = []
        for index, name in enumerate(names):
            target = folder / f"{index}{Path(name).suffix}"
            with default_storage.open(name, "rb") as source, target.open("wb") as copy:
                shutil.copyfileobj(source, copy)
            paths.append(target)
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return bytes(stored.read())


def listeners(monitor: Monitor) -> list[Any]:
    """Who hears of the monitor: the people in its ``notify_roles`` (the project's owners when none are left)."""
    project = monitor.version.model.project
    roles = [role for role in monitor.notify_roles if role in ProjectRole.values]
    return project_people(project, *roles) or project_people(project, ProjectRole.OWNER)


def label(monitor: Monitor) -> str:
    version = monitor.version
    return f"{version.model.name} v{version.number}"
