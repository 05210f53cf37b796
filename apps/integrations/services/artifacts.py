"""The SHA-256 of an MLflow version's files, streamed, never loaded.

Where the files are: the version's ``source``. An MLflow 3 version registered from a run has the
source ``models:/m-<id>``, a logged model, whose files are at ``logged-models/<id>`` →
``info.artifact_uri``; ``runs:/`` and ``models:/name/version`` sources are resolved by MLflow's
get-download-uri. Then:

- ``mlflow-artifacts:/<path>``: through the tracking server's artifact proxy (list, then stream).
- ``file://`` or a plain absolute path: only inside ``settings.SIGNET_ARTIFACT_ROOTS`` (symlinks are
  resolved first, so one cannot point outside).
- anything else (s3://, gs://, hdfs://, a path outside the roots): ``unreachable``, with the reason.

The digest (Signet compares digests with this definition everywhere, the gate included):

- a single file: the SHA-256 of its bytes (what ``sha256sum`` prints);
- a folder (an MLflow model is one): the SHA-256 of the UTF-8 text made of one line per file below
  it, at any depth, sorted by relative path (POSIX separators, compared as UTF-8 bytes), each line
  ``<relative path>\\0<size in bytes>\\0<lowercase hex SHA-256 of the file>\\n``. Empty folders
  add nothing. ``folder_digest`` computes it from such entries and ``local_digest`` for a folder
  on disk, so a pipeline can compute the same value for what it deploys.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between
from apps.integrations.choices import ArtifactState
from apps.integrations.mlflow_client import CHUNK, MlflowClient, MlflowError
from apps.integrations.models import MlflowVersion
from apps.integrations.services.connections import client_for
from apps.registry.choices import VersionStatus
from apps.registry.models import ModelVersion
from apps.workflows.services.findings import finding_raise_unapproved

MAX_FILES = 100_000  # a model with more files than this is not a model
FINDING_SOURCE = "mlflow-artifact"
FINDING_TITLE = "Artifact in MLflow differs from the approved one"


class Unreachable(Exception):
    """The files cannot be read from here; the message says why."""


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int
    uri: str


def folder_digest(entries: Iterable[tuple[str, int, str]]) -> str:
    """The folder digest of ``(relative path, size, file sha256)`` entries (module docstring)."""
    lines = sorted(entries, key=lambda entry: entry[0].encode())
    digest = hashlib.sha256()
    for path, size, sha in lines:
        digest.update(f"{path}\0{size}\0{sha}\n".encode())
    return digest.hexdigest()


def _file_sha(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _allowed_roots() -> list[Path]:
    return [Path(os.path.realpath(root)) for root in settings.SIGNET_ARTIFACT_ROOTS]


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def local_digest(path: Path) -> tuple[str, int]:
    """The digest and total size of a file or folder on disk (module docstring); raises Unreachable."""
    roots = _allowed_roots()
    real = Path(os.path.realpath(path))
    if not _inside(real, roots):
        raise Unreachable(f"{path} is outside the folders Signet may read (SIGNET_ARTIFACT_ROOTS).")
    if real.is_file():
        size, sha = _file_sha(real)
        return sha, size
    if not real.is_dir():
        raise Unreachable(f"{path} does not exist.")
    entries: list[tuple[str, int, str]] = []
    for folder, _dirs, files in os.walk(real):
        for name in files:
            file_path = Path(folder) / name
            target = Path(os.path.realpath(file_path))
            if not _inside(target, roots):
                raise Unreachable(f"{file_path} links outside the folders Signet may read.")
            if not target.is_file():
                continue
            if len(entries) >= MAX_FILES:
                raise Unreachable(f"{path} holds more than {MAX_FILES} files.")
            size, sha = _file_sha(target)
            entries.append((file_path.relative_to(real).as_posix(), size, sha))
    return folder_digest(entries), sum(size for _path, size, _sha in entries)


def proxy_digest(client: MlflowClient, path: str) -> tuple[str, int]:
    """The digest and size of ``mlflow-artifacts:/<path>``, a folder or a file, through the artifact proxy."""
    path = path.strip("/")
    entries: list[tuple[str, int, str]] = []
    folders = [""]
    while folders:
        relative = folders.pop()
        for item in client.list_artifacts("/".join(p for p in (path, relative) if p)):
            name = str(item.get("path") or "").rsplit("/", 1)[-1]
            if not name or name in {".", ".."}:
                continue
            child = f"{relative}/{name}" if relative else name
            if item.get("is_dir"):
                folders.append(child)
                continue
            if len(entries) >= MAX_FILES:
                raise Unreachable(f"mlflow-artifacts:/{path} holds more than {MAX_FILES} files.")
            digest = hashlib.sha256()
            size = client.stream_artifact(f"{path}/{child}", digest)
            entries.append((child, size, digest.hexdigest()))
    if entries:
        return folder_digest(entries), sum(size for _path, size, _sha in entries)
    digest = hashlib.sha256()  # nothing listed: a single file, or nothing at all
    try:
        size = client.stream_artifact(path, digest)
    except MlflowError as exc:
        if exc.status == 404:
            raise Unreachable(f"MLflow has no files at mlflow-artifacts:/{path}.") from None
        raise
    return digest.hexdigest(), size


def resolve_uri(client: MlflowClient, mirror: MlflowVersion) -> str:
    """Where the version's files are, as an artifact URI."""
    source = mirror.source
    if source.startswith("models:/m-"):
        model_id = source.removeprefix("models:/").split("/", 1)[0]
        info = client.get_logged_model(model_id).get("info") or {}
        uri = str(info.get("artifact_uri") or "")
        if not uri:
            raise Unreachable(f"MLflow names no files for the logged model {model_id}.")
        return uri
    if source.startswith(("runs:/", "models:/")) or not source:
        return client.download_uri(mirror.mlflow_model.name, mirror.number)
    return source


def _local_path(uri: str) -> Path | None:
    """The path on disk a ``file://`` URI or a plain absolute path names; None for anything else."""
    parsed = urlparse(uri)
    if parsed.scheme == "file" and parsed.netloc in {"", "localhost"}:
        return Path(unquote(parsed.path))
    if parsed.scheme == "" and uri.startswith("/"):
        return Path(uri)
    return None


def _uri_problem(uri: str) -> str:
    """Why the files at ``uri`` cannot be read from here, decided without reading them; '' when they may be."""
    parsed = urlparse(uri)
    if parsed.scheme == "mlflow-artifacts":
        return ""
    path = _local_path(uri)
    if path is None:
        return f"Signet cannot read {parsed.scheme or 'relative'} artifact locations ({uri[:200]})."
    if not _inside(Path(os.path.realpath(path)), _allowed_roots()):
        return f"{path} is outside the folders Signet may read (SIGNET_ARTIFACT_ROOTS)."
    return ""


def known_unreachable(source: str) -> str:
    """Why ``artifact_hash`` would record a version of this ``source`` as unreachable without asking MLflow.

    '' when it cannot be told without MLflow: ``runs:/`` and ``models:/`` sources (and none) are resolved
    by MLflow first; ``mlflow-artifacts:/`` and paths inside the allowed roots are read. The sync records
    the reason at once instead of queuing a task that would only say the same.
    """
    if not source or source.startswith(("runs:/", "models:/")):
        return ""
    return _uri_problem(source)


def _digest(client: MlflowClient, uri: str) -> tuple[str, int]:
    problem = _uri_problem(uri)
    if problem:
        raise Unreachable(problem)
    path = _local_path(uri)
    if path is not None:
        return local_digest(path)
    return proxy_digest(client, unquote(urlparse(uri).path))


def artifact_hash(mlflow_version: MlflowVersion) -> str:
    """Hash the version's files, record it on the mirror and the Signet version; return the digest ('' if none).

    A draft Signet version takes the digest (``registry.model_version.updated``, the bridge as
    actor); a version that left draft keeps its registered digest, and when MLflow's files differ
    from it the mirror says so and a high finding is raised. Raises MlflowError when MLflow did not
    answer (recorded as ``failed``; the task tries again later).
    """
    connection = mlflow_version.mlflow_model.connection
    try:
        with client_for(connection) as client:
            uri = resolve_uri(client, mlflow_version)
            sha, size = _digest(client, uri)
    except Unreachable as exc:
        _record(mlflow_version, state=ArtifactState.UNREACHABLE, message=str(exc))
        return ""
    except MlflowError as exc:
        _record(mlflow_version, state=ArtifactState.FAILED, message=exc.message)
        raise
    except OSError as exc:
        _record(mlflow_version, state=ArtifactState.FAILED, message=f"Reading the files failed: {exc.strerror}.")
        return ""
    _record(mlflow_version, state=ArtifactState.HASHED, sha=sha, size=size, uri=uri)
    return sha


def _record(
    mirror: MlflowVersion, *, state: str, message: str = "", sha: str = "", size: int | None = None, uri: str = ""
) -> None:
    connection = mirror.mlflow_model.connection
    differs: ModelVersion | None = None
    with transaction.atomic():
        row = MlflowVersion.objects.select_for_update(no_key=True).get(pk=mirror.pk)
        row.artifact_state, row.artifact_message = state, message[:500]
        fields = ["artifact_state", "artifact_message"]
        if state == ArtifactState.HASHED:
            row.artifact_sha256, row.artifact_size, row.artifact_hashed_at = sha, size, timezone.now()
            row.artifact_uri = uri[:1000]
            fields += ["artifact_sha256", "artifact_size", "artifact_hashed_at", "artifact_uri"]
        if state == ArtifactState.HASHED and row.version_id is not None:
            version = ModelVersion.objects.select_for_update(no_key=True).select_related("model__project")
            version = version.get(pk=row.version_id)
            if version.status == VersionStatus.DRAFT and version.artifact_sha256 != sha:
                before = version.artifact_sha256
                version.artifact_sha256 = sha
                version.save(update_fields=["artifact_sha256"])
                audit_record(
                    actor=connection.service_user,
                    actor_name=connection.actor_name,
                    action=Action.VERSION_UPDATED,
                    target=version,
                    project=version.model.project,
                    changes=changes_between({"artifact_sha256": before}, {"artifact_sha256": sha}),
                )
            elif version.status != VersionStatus.DRAFT and version.artifact_sha256 and version.artifact_sha256 != sha:
                row.artifact_message = (
                    f"The files in MLflow ({sha[:12]}…) differ from the digest registered in Signet "
                    f"({version.artifact_sha256[:12]}…)."
                )
                differs = version
        row.save(update_fields=fields)
    mirror.refresh_from_db()
    if differs is not None:
        _raise_finding(mirror, differs, sha)


def _raise_finding(mirror: MlflowVersion, version: ModelVersion, sha: str) -> Any:
    connection = mirror.mlflow_model.connection
    return finding_raise_unapproved(
        version=version,
        raised_by=connection.service_user,
        actor=connection.service_user,
        actor_name=connection.actor_name,
        source=FINDING_SOURCE,
        title=FINDING_TITLE,
        description=(
            f"MLflow's {mirror.mlflow_model.name} version {mirror.number} ({connection.name}) now holds files whose "
            f"SHA-256 is {sha}, but Signet registered {version.artifact_sha256} for {version} when it was reviewed. "
            "Whatever deploys from MLflow deploys something that was not approved."
        ),
    )
