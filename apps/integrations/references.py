"""``models:/`` references for the deployment gate: MLflow's names for a version, resolved through the mirror.

A pipeline that deploys from MLflow knows its model as ``models:/<name>@<alias>`` (what the alias
pointed at when Signet last read MLflow) or ``models:/<name>/<version>``, with MLflow's model name
and version number. ``resolve_mlflow_model`` is the resolver ``IntegrationsConfig.ready`` registers
for the ``models`` scheme (the contract is in ``apps/workflows/references.py``): it answers the
Signet version that governs that MLflow version and the artifact digest the mirror computed for it.

Only models the viewer may see are considered (the Signet project must be visible to them); one
they may not see reads as one that does not exist. MLflow's other forms (``models:/<name>/<stage>``,
``models:/m-<id>``, ``@latest``) are not deployable references here and answer a 400 saying so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from apps.integrations.choices import ArtifactState
from apps.integrations.mlflow_client import MlflowError
from apps.integrations.models import MlflowModel, MlflowVersion
from apps.integrations.permissions import can_see_intake
from apps.integrations.secrets import SecretMissing
from apps.integrations.services.connections import client_for
from apps.registry.selectors import models_visible_to
from apps.workflows.references import ReferenceNotFound, Resolved, UnresolvedReference

if TYPE_CHECKING:
    from apps.core.types import Viewer

SCHEME = "models"
ALIAS = re.compile(r"[A-Za-z0-9_-]{1,255}")  # MLflow's own rule for alias names
NUMBER = re.compile(r"[1-9][0-9]{0,9}")
SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_NAME = 256
FORMS = "models:/<name>@<alias> or models:/<name>/<version number>"


def parse(reference: str) -> tuple[str, str | None, int | None]:
    """``(name, alias, number)`` of a ``models:/`` reference, one of alias and number given.

    Raises UnresolvedReference for anything else, saying which forms are understood.
    """
    _scheme, _colon, path = reference.partition(":")
    if not path.startswith("/") or path.startswith("//"):
        raise UnresolvedReference(f"Give an MLflow model reference as {FORMS}.")
    path = path[1:]
    if "@" in path:
        name, _at, alias = path.rpartition("@")
        if not ALIAS.fullmatch(alias):
            raise UnresolvedReference(f"{alias[:60]!r} is not an MLflow alias (letters, digits, _ and -).")
        _check_name(name)
        return name, alias, None
    name, _slash, suffix = path.partition("/")
    if not suffix:
        raise UnresolvedReference(f"Name the version of {name[:100]!r}: give {FORMS}.")
    if not NUMBER.fullmatch(suffix):
        raise UnresolvedReference(
            f"{suffix[:60]!r} is not a version number; MLflow stages are not deployable references here: give {FORMS}."
        )
    _check_name(name)
    return name, None, int(suffix)


def _check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME or "/" in name or name != name.strip():
        raise UnresolvedReference(f"Give an MLflow model name of 1 to {MAX_NAME} characters: {FORMS}.")


def _model_for(viewer: Viewer, name: str) -> MlflowModel:
    found = list(
        MlflowModel.objects.select_related("connection", "model")
        .filter(name=name, deleted_at=None, connection__enabled=True, model__in=models_visible_to(viewer))
        .order_by("connection__name")[:5]
    )
    if len(found) > 1:
        servers = ", ".join(mlflow_model.connection.name for mlflow_model in found)
        raise UnresolvedReference(
            f"models:/{name} names models on more than one MLflow server ({servers}); name the version by model "
            "and version number instead."
        )
    if found:
        return found[0]
    in_intake = MlflowModel.objects.filter(name=name, deleted_at=None, connection__enabled=True, model=None)
    if can_see_intake(viewer) and in_intake.exists():
        raise ReferenceNotFound(
            f"The MLflow model {name[:100]} is in Signet's intake list: no project governs it yet, so no version of "
            "it is approved."
        )
    raise ReferenceNotFound(f"No MLflow model named {name[:100]} that Signet governs and you can see.")


def _alias_now(mlflow_model: MlflowModel, alias: str) -> int:
    """Where the alias points in MLflow at this moment, not as last mirrored: a pipeline deploys what MLflow
    says now, and an alias moved since the last read must not borrow the approval of the version before."""
    name = mlflow_model.name
    try:
        with client_for(mlflow_model.connection) as client:
            number = client.get_alias(name, alias)
    except (MlflowError, SecretMissing) as exc:
        raise ReferenceNotFound(
            f"Signet cannot confirm where {name[:100]}@{alias} points now, so it cannot approve it: "
            f"{getattr(exc, 'message', str(exc))}"
        ) from None
    if number is None:
        raise ReferenceNotFound(f"{name[:100]} has no alias @{alias} in MLflow.")
    return number


def resolve_mlflow_model(viewer: Viewer, reference: str) -> Resolved:
    """The Signet version a ``models:/`` reference names for ``viewer``, with the mirror's artifact digest."""
    name, alias, number = parse(reference)
    mlflow_model = _model_for(viewer, name)
    shown = f"models:/{name}@{alias}" if alias is not None else f"models:/{name}/{number}"
    if alias is not None:
        number = _alias_now(mlflow_model, alias)
    assert number is not None  # parse gives an alias or a number
    mlflow_version = (
        MlflowVersion.objects.select_related("version__model")
        .filter(mlflow_model=mlflow_model, number=number, deleted_at=None)
        .first()
    )
    if mlflow_version is None:
        raise ReferenceNotFound(f"{name[:100]} has no version {number} in MLflow (as Signet last read it).")
    version = mlflow_version.version
    if version is None:
        raise ReferenceNotFound(
            f"{shown[:120]} is MLflow version {number}, which Signet does not govern yet (not registered in Signet)."
        )
    digest = mlflow_version.artifact_sha256
    known = mlflow_version.artifact_state == ArtifactState.HASHED and SHA256.fullmatch(digest or "")
    return Resolved(
        version=version,
        artifact_sha256=digest if known else None,
        label=f"{shown[:120]} -> {version.model.name} version {version.number}",
    )
