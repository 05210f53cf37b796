"""The evidence digest: what a reviewer signs, as one hash."""

from __future__ import annotations

import hashlib
import json

from apps.registry.models import ModelCard, ModelVersion


def evidence_digest(version: ModelVersion) -> str:
    """Hash of what a reviewer signs: the artifact, the model card revision, the validation runs."""
    from apps.validation.choices import RunStatus
    from apps.validation.models import ValidationRun

    card = ModelCard.objects.only("revision").get(version=version)
    # Failed runs are evidence against the version: one that fails after approval makes it stale.
    failed = sorted(ValidationRun.objects.filter(version=version, status=RunStatus.FAILED).values_list("pk", flat=True))
    evidence = {"artifact_sha256": version.artifact_sha256, "card_revision": card.revision, "validation_runs": failed}
    return hashlib.sha256(json.dumps(evidence, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
