"""A monitor's source: a folder of this machine or a prefix of the ingest storage, inside the allowed roots.

A source is an absolute folder path, or ``storage://<prefix>`` in the storage named
``monitoring_ingest`` in ``settings.STORAGES`` (object storage in production). It must lie inside
one of ``settings.SIGNET_MONITORING_INGEST_ROOTS``, which an administrator sets; a folder is judged
after its symlinks and ``..`` are resolved, when it is set and at every reading, and so is each file
in it. The files are ``predictions/*.csv|*.parquet`` and ``outcomes/*.csv|*.parquet`` below the source
(names starting with a dot, other extensions and deeper folders are not read).

Setting a source is governed like setting a monitor up (``monitor_source_set``) and audited.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import InvalidStorageError, storages
from django.db import transaction

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between
from apps.core.permissions import require
from apps.monitoring.choices import BatchKind
from apps.monitoring.models import Monitor
from apps.monitoring.permissions import MONITOR_DENIED, can_monitor

STORAGE = "storage://"
STORAGE_ALIAS = "monitoring_ingest"
FOLDERS = {"predictions": BatchKind.PREDICTIONS, "outcomes": BatchKind.OUTCOMES}
EXTENSIONS = (".csv", ".parquet")
CHUNK = 1024 * 1024
MAX_SOURCE = 1000


class SourceError(Exception):
    """The source cannot be read as a whole; the message says why, for a person."""


@dataclass(frozen=True)
class Entry:
    """One file of a source: where it is, what it holds, its size and when it last changed."""

    location: str
    name: str
    kind: str
    size: int
    modified_at: datetime | None


def _local_roots() -> list[Path]:
    return [Path(os.path.realpath(root)) for root in settings.SIGNET_MONITORING_INGEST_ROOTS if root.startswith("/")]


def _storage_roots() -> list[str]:
    return [
        _prefix(root[len(STORAGE) :]) for root in settings.SIGNET_MONITORING_INGEST_ROOTS if root.startswith(STORAGE)
    ]


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _prefix(text: str) -> str:
    """A storage prefix as plain segments joined by '/'; SourceError for '..', '.', a backslash or a control."""
    parts = [part for part in text.split("/") if part]
    if any(part in (".", "..") or "\\" in part or not part.isprintable() for part in parts):
        raise SourceError("A storage location is plain folder names separated by '/', without '.' or '..'.")
    return "/".join(parts)


def _allowed() -> str:
    roots = settings.SIGNET_MONITORING_INGEST_ROOTS
    return ", ".join(roots) if roots else "none is allowed yet; an administrator names them in MONITORING_INGEST_ROOTS"


def ingest_storage() -> Any:
    """The ingest storage; SourceError when none is configured."""
    try:
        return storages[STORAGE_ALIAS]
    except InvalidStorageError:
        raise SourceError("No ingest storage is configured (MONITORING_INGEST_STORAGE_BACKEND).") from None


def resolve(source: str) -> str:
    """Return the source in its canonical form (a folder's real path); SourceError if it is not allowed or not there."""
    if not source or len(source) > MAX_SOURCE or "\x00" in source:
        raise SourceError(f"Name a folder or a storage:// location of at most {MAX_SOURCE} characters.")
    if source.startswith(STORAGE):
        prefix = _prefix(source[len(STORAGE) :])
        if not any(not root or prefix == root or prefix.startswith(root + "/") for root in _storage_roots()):
            raise SourceError(f"{source} is outside the locations monitors may read ({_allowed()}).")
        ingest_storage()
        return STORAGE + prefix
    if not source.startswith("/"):
        raise SourceError("Name an absolute folder path (starting with /) or a storage:// location.")
    real = Path(os.path.realpath(source))
    if not _inside(real, _local_roots()):
        raise SourceError(f"{source} is outside the folders monitors may read ({_allowed()}).")
    if not real.is_dir():
        raise SourceError(f"{source} is not a folder this server can read.")
    return str(real)


def entries(source: str) -> Iterator[Entry]:
    """The files of the source's ``predictions`` and ``outcomes`` folders, in name order; SourceError if unreadable."""
    canonical = resolve(source)
    for folder, kind in FOLDERS.items():
        if canonical.startswith(STORAGE):
            yield from _storage_entries(canonical[len(STORAGE) :], folder, kind)
        else:
            yield from _local_entries(Path(canonical) / folder, kind)


def _wanted(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(EXTENSIONS)


def _local_entries(folder: Path, kind: str) -> Iterator[Entry]:
    roots = _local_roots()
    if not _inside(Path(os.path.realpath(folder)), roots):
        # Not even the names of what it holds are read.
        raise SourceError(f"The folder {folder} links outside the folders monitors may read.")
    try:
        found = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except FileNotFoundError:
        return  # no such subfolder: nothing of this kind yet
    except OSError as exc:
        raise SourceError(f"The folder {folder} cannot be read ({exc.strerror or exc}).") from None
    for item in found:
        if not _wanted(item.name):
            continue
        # A link leading outside the roots is known by the link itself: nothing of its target is looked at.
        inside = _inside(Path(os.path.realpath(folder / item.name)), roots)
        try:
            info = item.stat(follow_symlinks=inside)
        except OSError:
            info = item.stat(follow_symlinks=False)  # a dangling link: copy_to says why
        if stat.S_ISDIR(info.st_mode):
            continue
        # The later of content and status changes: a file made readable again (chmod) is read again.
        changed = max(info.st_mtime_ns, info.st_ctime_ns) / 1e9
        yield Entry(str(folder / item.name), item.name, kind, info.st_size, datetime.fromtimestamp(changed, tz=UTC))


def _storage_entries(prefix: str, folder: str, kind: str) -> Iterator[Entry]:
    storage = ingest_storage()
    where = posixpath.join(prefix, folder) if prefix else folder
    if _escapes(storage, where):
        raise SourceError(f"The storage location {STORAGE}{where} links outside the ingest storage.")
    try:
        _dirs, files = storage.listdir(where)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SourceError(f"The storage location {STORAGE}{where} cannot be listed ({exc}).") from None
    for name in sorted(files):
        if not _wanted(name):
            continue
        full = posixpath.join(where, name)
        if _escapes(storage, full):
            yield Entry(STORAGE + full, name, kind, -1, None)  # nothing of its target is looked at
            continue
        try:
            modified: datetime | None = storage.get_modified_time(full)
        except (NotImplementedError, OSError):
            modified = None  # a backend without times: a file is known by its size (and its SHA-256 once read)
        try:
            size = int(storage.size(full))
        except OSError:
            size = -1  # read_storage says why
        yield Entry(STORAGE + full, name, kind, size, modified)


class Unreadable(Exception):
    """A file of the source cannot be read; the message says why, for a person."""


def copy_to(entry: Entry, target: Path, limit: int) -> str:
    """Copy the file to ``target`` (at most ``limit`` bytes) and return its SHA-256; Unreadable if it cannot be."""
    if entry.location.startswith(STORAGE):
        return _copy_storage(entry.location[len(STORAGE) :], target, limit)
    return _copy_local(entry.location, target, limit)


def _copy_local(location: str, target: Path, limit: int) -> str:
    real = os.path.realpath(location)
    if not _inside(Path(real), _local_roots()):
        raise Unreadable(f"{location} links outside the folders monitors may read; it is not read.")
    try:
        # O_NOFOLLOW: the resolved path itself, never a link put in its place since it was resolved.
        handle = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise Unreadable(f"{location} cannot be read ({exc.strerror or exc}).") from None
    with os.fdopen(handle, "rb") as source:
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            raise Unreadable(f"{location} is not a regular file; it is not read.")
        return _copy(source, target, limit, location)


def _escapes(storage: Any, name: str) -> bool:
    """Whether ``name`` of a storage on this machine's disk leads, through a link, outside the storage's folder."""
    try:
        local = storage.path(name)
    except NotImplementedError:
        return False  # object storage: no links to follow
    base = getattr(storage, "location", None)
    return base is not None and not _inside(Path(os.path.realpath(local)), [Path(os.path.realpath(base))])


def _copy_storage(name: str, target: Path, limit: int) -> str:
    storage = ingest_storage()
    if _escapes(storage, name):
        raise Unreadable(f"{STORAGE}{name} links outside the ingest storage; it is not read.")
    try:
        with storage.open(name, "rb") as source:
            return _copy(source, target, limit, STORAGE + name)
    except OSError as exc:
        raise Unreadable(f"{STORAGE}{name} cannot be read ({exc}).") from None


def _copy(source: Any, target: Path, limit: int, location: str) -> str:
    digest = hashlib.sha256()
    written = 0
    try:
        with target.open("wb") as copy:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise Unreadable(f"{location} is larger than the limit of {limit:,} bytes (MAX_UPLOAD_BYTES).")
                digest.update(chunk)
                copy.write(chunk)
    except OSError as exc:
        raise Unreadable(f"{location} cannot be read ({exc.strerror or exc}).") from None
    return digest.hexdigest()


def clean_source(source: str) -> str:
    """The canonical form of a source a person names ('' for none); ValidationError with the reason."""
    source = source.strip()
    if not source:
        return ""
    try:
        return resolve(source)
    except SourceError as exc:
        raise ValidationError({"source": str(exc)}) from None


def monitor_source_set(*, actor: User, monitor: Monitor, source: str) -> Monitor:
    """Set (or clear, with '') where the worker reads the monitor's batches (owners, developers, IT operations).

    The folder is resolved (symlinks, ``..``) and must lie inside the allowed roots. Side effects:
    ``monitoring.monitor.source_set`` when it changes. Raises PermissionDenied, ValidationError.
    """
    require(can_monitor(actor, monitor.version.model.project), MONITOR_DENIED)
    clean = clean_source(source)
    with transaction.atomic():
        locked = Monitor.objects.select_for_update(no_key=True).get(pk=monitor.pk)
        if locked.source == clean:
            return locked
        before = locked.source
        locked.source = clean
        locked.source_set_by = actor
        locked.source_error = ""
        locked.save(update_fields=["source", "source_set_by", "source_error"])
        audit_record(
            actor=actor,
            action=Action.MONITOR_SOURCE_SET,
            target=locked,
            project=monitor.version.model.project,
            changes=changes_between({"source": before}, {"source": clean}),
        )
    return locked
