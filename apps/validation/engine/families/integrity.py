"""The integrity family: the artifact's SHA-256 against the registered one, where it is reachable."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.validation.engine.measure import RESULT_KEYS

_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class Artifact:
    """The model artifact for the integrity check; path None when it is not reachable from here."""

    path: Path | None
    expected_sha256: str


def integrity_result(artifact: Artifact | None) -> dict[str, Any]:
    """Return the sha256 result: the file is only hashed, in chunks, never opened as a model."""
    expected = artifact.expected_sha256.strip().lower() if artifact is not None else ""
    item: dict[str, Any] = dict.fromkeys(RESULT_KEYS)
    item.update(check="integrity", metric="sha256", status="skipped")
    item["threshold"] = {"equals": expected} if expected else None
    if artifact is None:
        item["message"] = "No model artifact was given to this run."
        return item
    if artifact.path is None:
        item["message"] = "The artifact is not reachable from this run, so its SHA-256 was not checked."
        return item
    if not expected:
        item["message"] = "No SHA-256 is registered for the artifact."
        return item
    if not _SHA256.match(expected):
        item["status"] = "error"
        item["message"] = "The registered SHA-256 is not 64 hexadecimal characters."
        return item
    path = Path(artifact.path)
    try:
        # Only hashed, in chunks: the artifact is never opened as a model, so never unpickled.
        with path.open("rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as exc:
        item["status"] = "error"
        item["message"] = f"The artifact {path.name!r} could not be read: {exc.strerror or exc}."
        return item
    item["value"] = digest
    if digest == expected:
        item["status"] = "pass"
        item["message"] = "The artifact's SHA-256 matches the registered one."
    else:
        item["status"] = "fail"
        item["message"] = "The artifact's SHA-256 differs from the registered one: the file was changed."
    return item
