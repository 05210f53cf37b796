"""Models and versions registered elsewhere (an MLflow registry) and brought into Signet by a bridge.

Who may do this: the bridge, not a person. There is no project-membership check here, because the
authority is given elsewhere and checked by the caller: an administrator added the MLflow connection
(and with it the account the bridge acts as), and the model either carries the connection's project
tag naming the project, or a project owner claimed it (``apps.integrations.services.sync.model_claim``
checks ``can_claim_into``). Every write is audited with the usual registry actions
(``registry.model.created``, ``registry.model_version.created`` and ``.updated``), by ``actor`` under
``actor_name`` (``mlflow:<connection>`` for the bridge; None for a person who claimed).

A version that left draft is never changed here: its governed fields are what reviewers signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import AuditEntry, audit_record, audit_record_many, changes_between, snapshot
from apps.projects.models import Project
from apps.registry.choices import ModelTask, VersionStatus
from apps.registry.models import ModelCard, ModelVersion, RegisteredModel
from apps.registry.services.common import MODEL_FIELDS, VERSION_FIELDS

NAME_LENGTH = RegisteredModel._meta.get_field("name").max_length or 100
URI_LENGTH = ModelVersion._meta.get_field("artifact_uri").max_length or 500
RUN_ID_LENGTH = ModelVersion._meta.get_field("source_run_id").max_length or 200
FRAMEWORK_LENGTH = ModelVersion._meta.get_field("framework").max_length or 60
# The fields of a version the bridge sets from what the other registry says (no dataset or parent links).
IMPORTED_FIELDS = ("artifact_uri", "artifact_sha256", "framework", "source_run_id", "metrics", "description")


class ImportedVersion(TypedDict):
    """One version as another registry describes it; ``number`` is that registry's number."""

    number: int
    created_by: User
    artifact_uri: str
    artifact_sha256: str
    framework: str
    source_run_id: str
    metrics: dict[str, Any]
    description: str


def imported_task(value: str | None) -> str:
    """The task a model declares (a ModelTask value), else ``other``."""
    return value if value in ModelTask.values else ModelTask.OTHER


def _base_name(name: str) -> str:
    return slugify(name)[: NAME_LENGTH - 8].strip("-_") or "mlflow-model"


def model_import(
    *,
    actor: User,
    actor_name: str | None,
    project: Project,
    name: str,
    task: str,
    description: str = "",
    created_by: User | None = None,
) -> RegisteredModel:
    """Register a model another registry holds: its name made a unique slug (``-2``, ``-3`` … when taken).

    Call inside the caller's transaction (the bridge writes a model and its versions in one).
    Side effects: ``registry.model.created``.
    """
    base = _base_name(name)
    taken = set(RegisteredModel.objects.filter(name__startswith=base).values_list("name", flat=True))
    suffix = 1
    while True:
        candidate = base if suffix == 1 else f"{base}-{suffix}"
        suffix += 1
        if candidate in taken:
            continue
        model = RegisteredModel(
            project=project,
            name=candidate,
            task=imported_task(task),
            description=description.strip(),
            created_by=created_by or actor,
        )
        try:
            with transaction.atomic():  # a savepoint: a name taken meanwhile tries the next suffix
                model.save()
        except IntegrityError:
            if not RegisteredModel.objects.filter(name=candidate).exists():
                raise
            continue
        break
    audit_record(
        actor=actor,
        actor_name=actor_name,
        action=Action.MODEL_CREATED,
        target=model,
        project=project,
        changes=changes_between({}, dict(snapshot(model, MODEL_FIELDS), tags=[])),
    )
    return model


def model_import_update(
    *, actor: User, actor_name: str | None, model: RegisteredModel, description: str, task: str
) -> bool:
    """Bring a model's description and task to what the other registry says now; return whether it changed.

    Side effects: ``registry.model.updated`` when something changed.
    """
    before = snapshot(model, MODEL_FIELDS)
    model.description = description.strip()
    model.task = imported_task(task)
    changes = changes_between(before, snapshot(model, MODEL_FIELDS))
    if not changes:
        return False
    model.save(update_fields=["description", "task"])
    audit_record(
        actor=actor,
        actor_name=actor_name,
        action=Action.MODEL_UPDATED,
        target=model,
        project=model.project,
        changes=changes,
    )
    return True


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Values that fit the columns: a URI too long for Signet's column is left out (the mirror keeps it)."""
    uri = str(fields.get("artifact_uri") or "")
    return {
        "artifact_uri": uri if len(uri) <= URI_LENGTH else "",
        "artifact_sha256": str(fields.get("artifact_sha256") or ""),
        "framework": str(fields.get("framework") or "")[:FRAMEWORK_LENGTH],
        "source_run_id": str(fields.get("source_run_id") or "")[:RUN_ID_LENGTH],
        "metrics": dict(fields.get("metrics") or {}),
        "description": str(fields.get("description") or ""),
    }


def versions_import(
    *, actor: User, actor_name: str | None, model: RegisteredModel, versions: Sequence[ImportedVersion]
) -> list[ModelVersion]:
    """Register versions of ``model`` under the other registry's numbers, each with an empty model card.

    Written in bulk (one insert for the versions, one for their cards), inside the caller's
    transaction. Raises IntegrityError when a number is taken (the caller links an existing one instead).
    Side effects: ``registry.model_version.created`` for each.
    """
    if not versions:
        return []
    rows = [
        ModelVersion(model=model, number=item["number"], created_by=item["created_by"], **_clean(dict(item)))
        for item in versions
    ]
    created = ModelVersion.objects.bulk_create(rows)
    ModelCard.objects.bulk_create([ModelCard(version=version, updated_by=actor) for version in created])
    audit_record_many(
        AuditEntry(
            actor=actor,
            actor_name=actor_name,
            action=Action.VERSION_CREATED,
            target=version,
            project=model.project,
            changes=changes_between({}, snapshot(version, ("number", *VERSION_FIELDS))),
        )
        for version in created
    )
    return created


def version_import_update(
    *, actor: User, actor_name: str | None, version: ModelVersion, fields: dict[str, Any]
) -> bool:
    """Bring a draft version's fields to what the other registry says now; return whether it changed.

    A version that is no longer a draft is left as it is (its fields are evidence): returns False.
    The caller holds the version (``select_for_update``) or knows no one else writes it.
    Side effects: ``registry.model_version.updated`` when something changed.
    """
    if version.status != VersionStatus.DRAFT:
        return False
    values = {key: value for key, value in _clean(fields).items() if key in fields}
    if not values.get("artifact_sha256", True):
        values.pop("artifact_sha256")  # an unknown digest never erases a known one
    before = snapshot(version, VERSION_FIELDS)
    for key, value in values.items():
        setattr(version, key, value)
    changes = changes_between(before, snapshot(version, VERSION_FIELDS))
    if not changes:
        return False
    version.save(update_fields=list(values))
    audit_record(
        actor=actor,
        actor_name=actor_name,
        action=Action.VERSION_UPDATED,
        target=version,
        project=version.model.project,
        changes=changes,
    )
    return True
