"""Models and versions registered elsewhere (an MLflow registry) and brought into Signet by a bridge.

Who may do this: the bridge, not a person. There is no project-membership check here, because the
authority is given elsewhere and checked by the caller: an administrator added the MLflow connection
(and with it the account the bridge acts as), and the model either carries the connection's project
tag naming the project, or a project owner claimed it (``apps.integrations.services.governing.model_claim``
checks ``can_claim_into``). Every write is audited with the usual registry actions
(``registry.model.created``, ``registry.model_version.created`` and ``.updated``), by ``actor`` under
``actor_name`` (``mlflow:<connection>`` for the bridge; None for a person who claimed).

A version that left draft is never changed here: its governed fields are what reviewers signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.text import slugify

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import AuditEntry, audit_record, audit_record_many, changes_between, snapshot
from apps.core.bulk import bulk_insert, unsaved
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


class ImportedModel(TypedDict):
    """One model as another registry describes it, for ``models_import``."""

    project: Project
    name: str
    task: str
    description: str


def _record(audit: list[AuditEntry] | None, entries: list[AuditEntry]) -> None:
    """Write ``entries`` now, or hand them to the caller's ``audit`` list (it writes them before its commit)."""
    if audit is None:
        audit_record_many(entries)
    else:
        audit.extend(entries)


def _created_entry(actor: User, actor_name: str | None, model: RegisteredModel) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        actor_name=actor_name,
        action=Action.MODEL_CREATED,
        target=model,
        project=model.project,
        changes=changes_between({}, dict(snapshot(model, MODEL_FIELDS), tags=[])),
    )


def _unique_name(base: str, taken: set[str]) -> str:
    suffix = 1
    while True:
        candidate = base if suffix == 1 else f"{base}-{suffix}"
        suffix += 1
        if candidate not in taken:
            return candidate


def _save_one(model: RegisteredModel, base: str, taken: set[str]) -> None:
    """Save ``model`` under a free name: a name taken meanwhile tries the next suffix."""
    while True:
        model.name = _unique_name(base, taken)
        try:
            with transaction.atomic():  # a savepoint
                model.save()
        except IntegrityError:
            if not RegisteredModel.objects.filter(name=model.name).exists():
                raise
            taken.add(model.name)
            model.pk = None
            continue
        taken.add(model.name)
        return


def models_import(
    *,
    actor: User,
    actor_name: str | None,
    items: Sequence[ImportedModel],
    created_by: User | None = None,
    audit: list[AuditEntry] | None = None,
) -> list[RegisteredModel]:
    """Register models another registry holds, in order: names made unique slugs (``-2``, ``-3`` … when taken).

    One read of the names taken and one insert for all (one by one, each in a savepoint, only when
    a name was taken meanwhile). Call inside the caller's transaction (the bridge writes a batch of
    models and their versions in one). Side effects: ``registry.model.created`` for each, written
    now, or appended to ``audit`` when given (the caller writes it with ``audit_record_many`` before
    its transaction ends).
    """
    if not items:
        return []
    bases = [_base_name(item["name"]) for item in items]
    query = Q()
    for base in set(bases):
        query |= Q(name__startswith=base)
    taken = set(RegisteredModel.objects.filter(query).values_list("name", flat=True))
    rows: list[RegisteredModel] = []
    planned = set(taken)
    for item, base in zip(items, bases, strict=True):
        name = _unique_name(base, planned)
        planned.add(name)
        rows.append(
            RegisteredModel(
                project=item["project"],
                name=name,
                task=imported_task(item["task"]),
                description=item["description"].strip(),
                created_by=created_by or actor,
            )
        )
    try:
        with transaction.atomic():  # a savepoint: a name taken meanwhile falls back to one by one
            RegisteredModel.objects.bulk_create(rows)
    except IntegrityError:
        for row, base in zip(rows, bases, strict=True):
            row.pk = None
            _save_one(row, base, taken)
    _record(audit, [_created_entry(actor, actor_name, row) for row in rows])
    return rows


def model_import(
    *,
    actor: User,
    actor_name: str | None,
    project: Project,
    name: str,
    task: str,
    description: str = "",
    created_by: User | None = None,
    audit: list[AuditEntry] | None = None,
) -> RegisteredModel:
    """Register one model another registry holds (``models_import`` of one); same side effects."""
    item = ImportedModel(project=project, name=name, task=task, description=description)
    return models_import(actor=actor, actor_name=actor_name, items=[item], created_by=created_by, audit=audit)[0]


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
    *,
    actor: User,
    actor_name: str | None,
    model: RegisteredModel,
    versions: Sequence[ImportedVersion],
    audit: list[AuditEntry] | None = None,
) -> list[ModelVersion]:
    """Register versions of ``model`` under the other registry's numbers (``versions_import_many`` of one model)."""
    return versions_import_many(actor=actor, actor_name=actor_name, batches=[(model, versions)], audit=audit)


def versions_import_many(
    *,
    actor: User,
    actor_name: str | None,
    batches: Sequence[tuple[RegisteredModel, Sequence[ImportedVersion]]],
    audit: list[AuditEntry] | None = None,
) -> list[ModelVersion]:
    """Register versions of several models under the other registry's numbers, each with an empty model card.

    Written in bulk (one insert for the versions, one for their cards, whatever the number of
    models), inside the caller's transaction. Raises IntegrityError when a number is taken (the
    caller links an existing one instead). Side effects: ``registry.model_version.created`` for
    each, written now, or appended to ``audit`` when given (see ``models_import``).
    """
    values = [
        (model, item["created_by"], {"number": item["number"], **_clean(dict(item))})
        for model, versions in batches
        for item in versions
    ]
    if not values:
        return []
    rows = unsaved(
        ModelVersion, ({"model": model, "created_by": builder, **fields} for model, builder, fields in values)
    )
    created = bulk_insert(rows)  # COPY on PostgreSQL
    bulk_insert(unsaved(ModelCard, ({"version": version, "updated_by": actor} for version in created)))
    # The snapshot of each new version, from the values it was made of (no dataset, no parent: the
    # fields changes_between leaves out when empty), as snapshot(version, ...) reads it back.
    entries = [
        AuditEntry(
            actor=actor,
            actor_name=actor_name,
            action=Action.VERSION_CREATED,
            target=version,
            project=model.project,
            changes=changes_between({}, fields),
        )
        for version, (model, _, fields) in zip(created, values, strict=True)
    ]
    _record(audit, entries)
    return created


def version_import_update(
    *,
    actor: User,
    actor_name: str | None,
    version: ModelVersion,
    fields: dict[str, Any],
    audit: list[AuditEntry] | None = None,
) -> bool:
    """Bring a draft version's fields to what the other registry says now; return whether it changed.

    A version that is no longer a draft is left as it is (its fields are evidence): returns False.
    The caller holds the version (``select_for_update``) or knows no one else writes it.
    Side effects: ``registry.model_version.updated`` when something changed (appended to ``audit`` when given).
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
    entry = AuditEntry(
        actor=actor,
        actor_name=actor_name,
        action=Action.VERSION_UPDATED,
        target=version,
        project=version.model.project,
        changes=changes,
    )
    _record(audit, [entry])
    return True
