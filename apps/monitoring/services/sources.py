"""A monitor's source: a folder of this machine or a prefix of the ingest storage, inside its project's folder.

A source is an absolute folder path, or ``storage://<prefix>`` in the storage named
``monitoring_ingest`` in ``settings.STORAGES`` (object storage in production). It must lie inside
``<root>/<project slug>/`` for one of ``settings.SIGNET_MONITORING_INGEST_ROOTS``, which an
administrator sets: one folder per project under each root, so no project reads another's files. A
folder is judged after its symlinks and ``..`` are resolved, when it is set and at every reading, and
so is each file in it (again once opened, through ``/proc/self/fd``; a file with other hard links is
not read). The files are ``predictions/*.csv|*.parquet`` and ``outcomes/*.csv|*.parquet`` below the source
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
MAX_SOURCE = 900  # + "/predictions/" + a file name (255 at most) fits SourceFile.location (1200)
LINKS_OUTSIDE = "outside the folders this project's monitors may read"
OUTSIDE_STORAGE = "outside the ingest storage or this project's folder in it"


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


def _folder(slug: str) -> str:
    """The project's folder name under each root (its slug); SourceError for anything but one plain name."""
    if not slug or slug in (".", "..") or "/" in slug or "\\" in slug or not slug.isprintable():
        raise SourceError("This project has no folder name monitors can read from.")
    return slug


def _local_roots(slug: str) -> list[Path]:
    """``<root>/<slug>`` of each folder root: the root's links resolved, never the project folder's own."""
    folder = _folder(slug)
    roots = settings.SIGNET_MONITORING_INGEST_ROOTS
    return [Path(os.path.realpath(root)) / folder for root in roots if root.startswith("/")]


def _storage_bases() -> list[str]:
    return [
        _prefix(root[len(STORAGE) :]) for root in settings.SIGNET_MONITORING_INGEST_ROOTS if root.startswith(STORAGE)
    ]


def _storage_roots(slug: str) -> list[str]:
    folder = _folder(slug)
    return [posixpath.join(base, folder) if base else folder for base in _storage_bases()]


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _prefix(text: str) -> str:
    """A storage prefix as plain segments joined by '/'; SourceError for '..', '.', a backslash or a control."""
    parts = [part for part in text.split("/") if part]
    if any(part in (".", "..") or "\\" in part or not part.isprintable() for part in parts):
        raise SourceError("A storage location is plain folder names separated by '/', without '.' or '..'.")
    return "/".join(parts)


def _expected(slug: str, storage: bool) -> str:
    """Where this project's sources must lie, without naming the configured roots."""
    if not settings.SIGNET_MONITORING_INGEST_ROOTS:
        return "none is allowed yet; an administrator names the ingest roots in MONITORING_INGEST_ROOTS"
    where = f"{STORAGE}<ingest root>/{slug}/" if storage else f"<ingest root>/{slug}/"
    return f"a source of this project must lie in its folder {where}"


def ingest_storage() -> Any:
    """The ingest storage; SourceError when none is configured."""
    try:
        return storages[STORAGE_ALIAS]
    except InvalidStorageError:
        raise SourceError("No ingest storage is configured (MONITORING_INGEST_STORAGE_BACKEND).") from None


def _short(source: str) -> str:
    if not source or len(source) > MAX_SOURCE or "\x00" in source:
        raise SourceError(f"Name a folder or a storage:// location of at most {MAX_SOURCE} characters.")
    return source


def resolve(source: str, slug: str) -> str:
    """Return the source in its canonical form (a folder's real path); SourceError if it is not allowed or not there.

    ``slug`` is the monitor's project's: the source must lie in ``<root>/<slug>/``.
    """
    _short(source)
    if source.startswith(STORAGE):
        prefix = _prefix(source[len(STORAGE) :])
        if not any(prefix == root or prefix.startswith(root + "/") for root in _storage_roots(slug)):
            raise SourceError(f"{source} is outside the locations this project's monitors may read: "
                              f"{_expected(slug, True)}.")  # fmt: skip
        ingest_storage()
        return _short(STORAGE + prefix)
    if not source.startswith("/"):
        raise SourceError("Name an absolute folder path (starting with /) or a storage:// location.")
    real = Path(os.path.realpath(source))
    if not _inside(real, _local_roots(slug)):
        raise SourceError(f"{source} is {LINKS_OUTSIDE}: {_expected(slug, False)}.")
    if not real.is_dir():
        raise SourceError(f"{source} is not a folder this server can read.")
    return _short(str(real))


def entries(source: str, slug: str) -> Iterator[Entry]:
    """The files of the source's ``predictions`` and ``outcomes`` folders, in name order; SourceError if unreadable."""
    canonical = resolve(source, slug)
    for folder, kind in FOLDERS.items():
        if canonical.startswith(STORAGE):
            yield from _storage_entries(canonical[len(STORAGE) :], folder, kind, slug)
        else:
            yield from _local_entries(Path(canonical) / folder, kind, slug)


def _wanted(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(EXTENSIONS)


def _local_entries(folder: Path, kind: str, slug: str) -> Iterator[Entry]:
    roots = _local_roots(slug)
    if not _inside(Path(os.path.realpath(folder)), roots):
        # Not even the names of what it holds are read.
        raise SourceError(f"The folder {folder} links {LINKS_OUTSIDE}.")
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


def _storage_entries(prefix: str, folder: str, kind: str, slug: str) -> Iterator[Entry]:
    storage = ingest_storage()
    where = posixpath.join(prefix, folder) if prefix else folder
    if _escapes(storage, where, slug):
        raise SourceError(f"The storage location {STORAGE}{where} links {OUTSIDE_STORAGE}.")
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
        if _escapes(storage, full, slug):
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


def copy_to(entry: Entry, target: Path, limit: int, slug: str) -> str:
    """Copy the file to ``target`` (at most ``limit`` bytes) and return its SHA-256; Unreadable if it cannot be.

    ``slug`` is the monitor's project's: the file must lie in ``<root>/<slug>/``, checked again once open.
    """
    if entry.location.startswith(STORAGE):
        return _copy_storage(entry.location[len(STORAGE) :], target, limit, slug)
    return _copy_local(entry.location, target, limit, slug)


def _opened(handle: int) -> Path | None:
    """The real path of an open file as the kernel knows it (Linux), None where /proc cannot tell."""
    link = f"/proc/self/fd/{handle}"
    return Path(os.path.realpath(link)) if os.path.islink(link) else None


def _copy_local(location: str, target: Path, limit: int, slug: str) -> str:
    roots = _local_roots(slug)
    real = os.path.realpath(location)
    if not _inside(Path(real), roots):
        raise Unreadable(f"{location} links {LINKS_OUTSIDE}; it is not read.")
    try:
        # O_NOFOLLOW: the resolved path itself, never a link put in its place since it was resolved.
        handle = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise Unreadable(f"{location} cannot be read ({exc.strerror or exc}).") from None
    with os.fdopen(handle, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"{location} is not a regular file; it is not read.")
        # A folder of the path swapped for a link since it was resolved: the file opened is judged itself.
        opened = _opened(source.fileno())
        if opened is not None and not _inside(opened, roots):
            raise Unreadable(f"{location} links {LINKS_OUTSIDE}; it is not read.")
        if info.st_nlink > 1:  # a hard link is the same file as another name, perhaps of another project
            raise Unreadable(f"{location} has other hard links; only a file with one name is read.")
        return _copy(source, target, limit, location)


def _outside_storage(storage: Any, real: Path, slug: str) -> bool:
    """Whether a real path of this machine's disk lies outside the project's folders of a local storage."""
    bases = [Path(os.path.realpath(storage.path(base))) / _folder(slug) for base in _storage_bases()]
    base = getattr(storage, "location", None)
    return not _inside(real, bases) or (base is not None and not _inside(real, [Path(os.path.realpath(base))]))


def _escapes(storage: Any, name: str, slug: str) -> bool:
    """Whether ``name`` of a storage on this machine's disk leads, through a link, outside the project's folders."""
    try:
        return _outside_storage(storage, Path(os.path.realpath(storage.path(name))), slug)
    except NotImplementedError:
        return False  # object storage: no links to follow


def _judge_open(storage: Any, source: Any, name: str, slug: str) -> None:
    """A file of a local storage, judged again once open (its folders may have been swapped for links)."""
    try:
        handle = source.fileno()
    except (AttributeError, OSError, ValueError):
        return  # object storage: a stream, no file of this machine
    opened = _opened(handle)
    try:
        outside = opened is not None and _outside_storage(storage, opened, slug)
    except NotImplementedError:
        outside = False
    if outside:
        raise Unreadable(f"{STORAGE}{name} links {OUTSIDE_STORAGE}; it is not read.")
    if os.fstat(handle).st_nlink > 1:
        raise Unreadable(f"{STORAGE}{name} has other hard links; only a file with one name is read.")


def _copy_storage(name: str, target: Path, limit: int, slug: str) -> str:
    storage = ingest_storage()
    if _escapes(storage, name, slug):
        raise Unreadable(f"{STORAGE}{name} links {OUTSIDE_STORAGE}; it is not read.")
    try:
        with storage.open(name, "rb") as source:
            _judge_open(storage, source, name, slug)
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


def clean_source(source: str, slug: str) -> str:
    """The canonical form of a source a person names for the project ``slug`` ('' for none); ValidationError."""
    source = source.strip()
    if not source:
        return ""
    try:
        return resolve(source, slug)
    except SourceError as exc:
        raise ValidationError({"source": str(exc)}) from None


def monitor_source_set(*, actor: User, monitor: Monitor, source: str) -> Monitor:
    """Set (or clear, with '') where the worker reads the monitor's batches (owners, developers, IT operations).

    The folder is resolved (symlinks, ``..``) and must lie inside ``<root>/<project slug>/`` of an
    allowed root, and be at most ``MAX_SOURCE`` characters long. Side effects:
    ``monitoring.monitor.source_set`` when it or the person who set it changes.
    Raises PermissionDenied, ValidationError.
    """
    project = monitor.version.model.project
    require(can_monitor(actor, project), MONITOR_DENIED)
    clean = clean_source(source, project.slug)
    with transaction.atomic():
        locked = Monitor.objects.select_for_update(no_key=True).get(pk=monitor.pk)
        if locked.source == clean and (not clean or locked.source_set_by_id == actor.pk):
            return locked
        # The same source set by another person: the readings go on under their roles (asked at each).
        before = {"source": locked.source, "source_set_by": locked.source_set_by_id}
        locked.source = clean
        locked.source_set_by = actor
        locked.source_error = ""
        locked.save(update_fields=["source", "source_set_by", "source_error"])
        audit_record(
            actor=actor,
            action=Action.MONITOR_SOURCE_SET,
            target=locked,
            project=monitor.version.model.project,
            changes=changes_between(before, {"source": clean, "source_set_by": actor.pk}),
        )
    return locked
