"""Where MLflow aliases point and whether a current approval backs each: the read behind the guard.

The model page and the portfolio show, for every alias of a mirrored MLflow model, the Signet
version behind it and whether the deployment gate would let it be deployed to the alias's
environment (protected aliases) or at all (the others). ``alias_states_bulk`` answers for many
models in a fixed number of queries; it judges as ``apps.workflows.gate.gate_check`` does, from rows
read in bulk, and the tests hold the two equal. The guard itself (``services/aliases.py``) asks
``gate_check`` for each protected alias.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from apps.integrations.choices import ArtifactState
from apps.integrations.models import MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion
from apps.registry.choices import VersionStatus
from apps.registry.models import ModelVersion
from apps.workflows.choices import BLOCKING_SEVERITIES, FindingStatus, ReviewStatus
from apps.workflows.evidence import evidence_digests
from apps.workflows.gate import digest_refusal, environment_refusal, environments_phrase
from apps.workflows.models import Finding, Review

APPROVED_STATUSES = (VersionStatus.APPROVED, VersionStatus.DEPLOYED)


def mirror_digest(mlflow_version: MlflowVersion) -> str | None:
    """The artifact SHA-256 the mirror computed, to compare with the registered one; None when unknown.

    Only where both are known: a version registered without a digest is judged on its approval alone,
    as the gate judges a pipeline that gives none.
    """
    version = mlflow_version.version
    if mlflow_version.artifact_state != ArtifactState.HASHED or not mlflow_version.artifact_sha256:
        return None
    if version is None or not version.artifact_sha256:
        return None
    return mlflow_version.artifact_sha256


def ungoverned_reason(mlflow_model: MlflowModel, number: int, mlflow_version: MlflowVersion | None) -> str | None:
    """Why version ``number`` of ``mlflow_model`` has no Signet version to judge, or None when it has one."""
    if mlflow_model.model_id is None:
        return f"{mlflow_model.name} is in Signet's intake list: no project governs it, so nothing of it is approved."
    if mlflow_version is None or mlflow_version.deleted_at is not None:
        return f"{mlflow_model.name} v{number} is not in Signet's mirror of MLflow: Signet has not approved it."
    if mlflow_version.version_id is None:
        return f"{mlflow_model.name} v{number} is not governed by Signet yet (no Signet version): it is not approved."
    return None


@dataclass(frozen=True)
class AliasState:
    """Where an MLflow alias points, and whether a current approval backs it (for its environment, if protected)."""

    alias: str
    number: int  # the MLflow version number
    version_id: int | None  # the Signet version behind it, None when Signet does not govern it
    version_number: int | None  # that Signet version's number
    protected: bool
    environment: str | None
    backed: bool
    reasons: list[str]


def alias_states(mlflow_model: MlflowModel) -> list[AliasState]:
    """The aliases of one mirrored model, by name, in a fixed number of queries."""
    return alias_states_bulk([mlflow_model]).get(mlflow_model.pk, [])


def alias_states_bulk(mlflow_models: Iterable[MlflowModel]) -> dict[int, list[AliasState]]:
    """The alias states of many mirrored models by their id, in seven queries however many there are.

    Judges as ``gate_check`` does (same reasons; tests hold the two equal), from rows read in bulk.
    """
    models = {mlflow_model.pk: mlflow_model for mlflow_model in mlflow_models}
    if not models:
        return {}
    connections = {
        connection.pk: connection for connection in MlflowConnection.objects.filter(models__in=list(models)).distinct()
    }
    aliases = list(MlflowAlias.objects.filter(mlflow_model_id__in=list(models)).order_by("mlflow_model_id", "alias"))
    numbers = {alias.number for alias in aliases}
    mirrored = {
        (mv.mlflow_model_id, mv.number): mv
        for mv in MlflowVersion.objects.select_related("version__model").filter(
            mlflow_model_id__in=list(models), number__in=numbers
        )
    }
    versions = {mv.version.pk: mv.version for mv in mirrored.values() if mv.version is not None}
    judge = _Judge(list(versions.values()))
    states: dict[int, list[AliasState]] = defaultdict(list)
    for alias in aliases:
        mlflow_model = models[alias.mlflow_model_id]
        connection = connections[mlflow_model.connection_id]
        environment = connection.environment_of(alias.alias)
        mv = mirrored.get((alias.mlflow_model_id, alias.number))
        reason = ungoverned_reason(mlflow_model, alias.number, mv)
        version = mv.version if mv is not None else None
        if reason is not None or mv is None or version is None:
            allowed, reasons = False, [reason or ""]
        else:
            allowed, reasons = judge.answer(version, environment, mirror_digest(mv))
        states[alias.mlflow_model_id].append(
            AliasState(
                alias=alias.alias,
                number=alias.number,
                version_id=version.pk if version is not None else None,
                version_number=version.number if version is not None else None,
                protected=environment is not None,
                environment=environment,
                backed=allowed,
                reasons=reasons,
            )
        )
    return dict(states)


class _Judge:
    """The gate's answer for many versions from rows read at once (reviews, evidence, findings)."""

    def __init__(self, versions: list[ModelVersion]) -> None:
        ids = [version.pk for version in versions]
        self.approved: dict[int, Review] = {}
        for review in Review.objects.filter(version_id__in=ids, status=ReviewStatus.APPROVED).order_by("cycle"):
            self.approved[review.version_id] = review  # the last cycle wins
        judged = [version for version in versions if version.pk in self.approved]
        self.digests = evidence_digests(judged)
        self.blocked_versions: set[int] = set()
        self.blocked_models: set[int] = set()
        if not ids:
            return
        blocking = Finding.objects.filter(
            Q(version_id__in=ids) | Q(version=None, model_id__in={version.model_id for version in versions}),
            status__in=(FindingStatus.OPEN, FindingStatus.REMEDIATED),
            severity__in=BLOCKING_SEVERITIES,
        ).values_list("version_id", "model_id")
        for version_id, model_id in blocking:
            if version_id is None:
                self.blocked_models.add(model_id)
            else:
                self.blocked_versions.add(version_id)

    def answer(self, version: ModelVersion, environment: str | None, digest: str | None) -> tuple[bool, list[str]]:
        label = f"{version.model.name} v{version.number}"
        if version.status not in APPROVED_STATUSES:
            return False, [f"{label} is {version.get_status_display().lower()}, not approved."]
        review = self.approved.get(version.pk)
        if review is None:
            return False, [f"{label} has no approved review."]
        reasons: list[str] = []
        if review.approved_digest != self.digests.get(version.pk):
            reasons.append(
                f"The approval of {label} is stale: its evidence changed after approval; it needs a new review."
            )
        now = timezone.now()
        if review.expires_at and review.expires_at + timedelta(days=review.grace_days) <= now:
            expired = f"{review.expires_at:%Y-%m-%d}"
            reasons.append(f"The approval of {label} expired on {expired}; it needs re-certification.")
        if version.pk in self.blocked_versions or version.model_id in self.blocked_models:
            reasons.append(f"{label} has open high or critical findings.")
        for refusal in (environment_refusal(review, label, environment), digest_refusal(version, label, digest)):
            if refusal is not None:
                reasons.append(refusal)
        if reasons:
            return False, reasons
        if environment is None:
            covered = list(review.environments or [])
            where = f"to {environments_phrase(covered)}" if covered else "to any environment"
        else:
            where = f"to {environment}"
        return True, [f"{label} is approved (review {review.cycle}) for deployment {where}."]
