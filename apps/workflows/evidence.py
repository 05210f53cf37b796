"""The evidence digest: what a reviewer signs, as one hash. Reads only."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable

from apps.registry.models import ModelCard, ModelVersion
from apps.validation.choices import RunStatus
from apps.validation.models import ValidationRun


def digest_of(*, artifact_sha256: str, card_revision: int, failed_runs: Iterable[int]) -> str:
    """Hash the artifact, the model card revision and the failed validation runs (canonical JSON)."""
    evidence = {
        "artifact_sha256": artifact_sha256,
        "card_revision": card_revision,
        "validation_runs": sorted(failed_runs),
    }
    return hashlib.sha256(json.dumps(evidence, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def evidence_digests(versions: Iterable[ModelVersion]) -> dict[int, str]:
    """The evidence digest of each of ``versions`` by version id, in two queries however many there are.

    Raises ModelCard.DoesNotExist for a version without a card (every version gets one when created).
    """
    by_id = {version.pk: version for version in versions}
    if not by_id:
        return {}
    revisions = dict(ModelCard.objects.filter(version_id__in=by_id).values_list("version_id", "revision"))
    # Failed runs are evidence against the version: one that fails after approval makes it stale.
    failed: dict[int, list[int]] = defaultdict(list)
    runs = ValidationRun.objects.filter(version_id__in=by_id, status=RunStatus.FAILED)
    for version_id, run_id in runs.values_list("version_id", "pk"):
        failed[version_id].append(run_id)
    missing = by_id.keys() - revisions.keys()
    if missing:
        raise ModelCard.DoesNotExist(f"Model versions without a card: {sorted(missing)}")
    return {
        pk: digest_of(
            artifact_sha256=version.artifact_sha256, card_revision=revisions[pk], failed_runs=failed.get(pk, [])
        )
        for pk, version in by_id.items()
    }


def evidence_digest(version: ModelVersion) -> str:
    """Hash of what a reviewer signs: the artifact, the model card revision, the validation runs."""
    return evidence_digests([version])[version.pk]
