"""Versions of a model: register one, change it (its artifact only while it is a draft)."""

from __future__ import annotations

from typing import Any, Unpack

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between, snapshot
from apps.core.permissions import require
from apps.registry import permissions as can
from apps.registry.choices import VersionStatus
from apps.registry.models import (
    ModelCard,
    ModelVersion,
    RegisteredModel,
)
from apps.registry.services.common import ARTIFACT_FIELDS, VERSION_FIELDS, VersionFields, only_known


def _check_links(
    actor: User, model: RegisteredModel, fields: dict[str, Any], version: ModelVersion | None = None
) -> None:
    dataset_version = fields.get("training_dataset")
    unchanged = (
        version is not None and dataset_version is not None and dataset_version.pk == version.training_dataset_id
    )
    if dataset_version is not None and not unchanged:
        require(can.can_link_dataset_version(actor, dataset_version), can.LINK_DENIED)
    parent = fields.get("parent")
    if parent is not None and parent.model_id != model.pk:
        raise ValidationError({"parent": "The parent must be another version of the same model."})
    if parent is not None and version is not None and parent.number >= version.number:
        raise ValidationError({"parent": "A version derives from an earlier version, not itself or a later one."})


_RELATIONS = ("model", "created_by", "parent", "training_dataset")
_HIGHEST = f"SELECT MAX(number) FROM {ModelVersion._meta.db_table} WHERE model_id = %s"  # noqa: S608 - our own table's name


def _highest_number(model: RegisteredModel) -> int:
    # Plain SQL: the ORM's aggregate() built a query and its compiler for one number, a tenth of a write.
    with connection.cursor() as cursor:
        cursor.execute(_HIGHEST, [model.pk])
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


def version_create(
    *,
    actor: User,
    model: RegisteredModel,
    **values: Unpack[VersionFields],
) -> ModelVersion:
    """Register a new version (numbered 1, 2, 3 … per model) with an empty model card.

    Side effects: ``registry.model_version.created``. Raises PermissionDenied, ValidationError.
    """
    require(can.can_register_version(actor, model), can.BUILD_DENIED)
    fields = only_known(values, VERSION_FIELDS, "version_create")
    _check_links(actor, model, fields)
    with transaction.atomic():
        # Serialise numbering on the model's row (a lock, not a read: the caller holds the model).
        RegisteredModel.objects.select_for_update(no_key=True).filter(pk=model.pk).values_list("pk").get()
        number = _highest_number(model) + 1
        version = ModelVersion(model=model, number=number, created_by=actor, **fields)
        # The field values are validated; the relations are objects in hand (the model row locked above,
        # the actor, links checked by _check_links) and the number is unique under that lock (and the
        # database's constraint): checking them again would cost three queries on every version.
        version.full_clean(exclude=_RELATIONS, validate_unique=False, validate_constraints=False)
        version.save(force_insert=True)
        ModelCard.objects.create(version=version, updated_by=actor)  # also caches version.card
        # Last, so the chain lock it takes is held only from here to the commit.
        audit_record(
            actor=actor,
            action=Action.VERSION_CREATED,
            target=version,
            project=model.project,
            changes=changes_between({}, snapshot(version, ("number", *VERSION_FIELDS))),
        )
    return version


def version_update(
    *,
    actor: User,
    version: ModelVersion,
    **values: Unpack[VersionFields],
) -> ModelVersion:
    """Change the fields given of a version. Its artifact is frozen once it leaves draft: a change means a new version.

    Side effects: ``registry.model_version.updated``. Raises PermissionDenied, ValidationError.
    """
    model = version.model
    require(can.can_edit_version(actor, version), can.BUILD_DENIED)
    fields = only_known(values, VERSION_FIELDS, "version_update")
    _check_links(actor, model, fields, version)
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update(no_key=True).get(pk=version.pk)
        before = snapshot(version, VERSION_FIELDS)
        artifact_changes = [
            f for f in ARTIFACT_FIELDS if f in fields and snapshot(version, (f,))[f] != _plain(fields[f])
        ]
        if artifact_changes and version.status != VersionStatus.DRAFT:
            raise ValidationError(
                dict.fromkeys(
                    artifact_changes, "The artifact of a submitted version cannot change: register a new one."
                )
            )
        for field, value in fields.items():
            setattr(version, field, value)
        version.full_clean()
        version.save()
        changes = changes_between(before, snapshot(version, VERSION_FIELDS))
        if changes:
            audit_record(
                actor=actor,
                action=Action.VERSION_UPDATED,
                target=version,
                project=model.project,
                changes=changes,
            )
    return version


def _plain(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value
