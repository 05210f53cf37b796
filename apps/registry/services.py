"""Governed changes to the registry and the data catalogue. Each one writes its audit event."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_chain_lock, audit_record, changes_between, snapshot
from apps.core.permissions import require, unique_or_invalid
from apps.core.unset import UNSET, Unset, given
from apps.projects.models import Project
from apps.registry import ingest, rules
from apps.registry import permissions as can
from apps.registry.choices import CARD_SECTION_NAMES, FileFormat, VersionStatus
from apps.registry.models import (
    Dataset,
    DatasetVersion,
    ModelCard,
    ModelCardRevision,
    ModelVersion,
    RegisteredModel,
    Tag,
)
from apps.registry.selectors import version_under_review

BUILD_DENIED = can.BUILD_DENIED
# What reviewers sign: frozen once the version leaves draft (metrics are evaluation evidence too).
ARTIFACT_FIELDS = (
    "artifact_uri",
    "artifact_sha256",
    "framework",
    "training_dataset",
    "parent",
    "source_run_id",
    "metrics",
)
VERSION_FIELDS = (*ARTIFACT_FIELDS, "description")
MODEL_FIELDS = ("name", "task", "description")
DATASET_FIELDS = ("name", "description", "source", "sensitivity", "contains_personal_data")


def _tags(names: list[str]) -> list[Tag]:
    tags = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        tag = Tag(name=name)
        tag.full_clean(validate_unique=False)
        tags.append(Tag.objects.get_or_create(name=name)[0])
    return tags


def model_create(
    *, actor: User, project: Project, name: str, task: str, description: str = "", tags: list[str] | None = None
) -> RegisteredModel:
    """Register a model in a project. Side effects: ``registry.model.created``."""
    require(can.can_register_model(actor, project), BUILD_DENIED)
    model = RegisteredModel(
        project=project, name=name.strip(), task=task, description=description.strip(), created_by=actor
    )
    model.full_clean()
    with transaction.atomic():
        with unique_or_invalid("name", "A model with this name already exists."):
            model.save()
        tag_objects = _tags(tags or [])
        model.tags.set(tag_objects)
        after = dict(snapshot(model, MODEL_FIELDS), tags=sorted(t.name for t in tag_objects))
        audit_record(
            actor=actor,
            action=Action.MODEL_CREATED,
            target=model,
            project=project,
            changes=changes_between({}, after),
        )
    return model


def model_update(
    *,
    actor: User,
    model: RegisteredModel,
    tags: list[str] | None = None,
    task: str | Unset = UNSET,
    description: str | Unset = UNSET,
) -> RegisteredModel:
    """Change a model's description, task or tags: those given. Side effects: ``registry.model.updated``."""
    require(can.can_edit_model(actor, model), BUILD_DENIED)
    fields = given(task=task, description=description)
    with transaction.atomic():
        model = RegisteredModel.objects.select_for_update(no_key=True).get(pk=model.pk)
        before = dict(snapshot(model, MODEL_FIELDS), tags=sorted(model.tags.values_list("name", flat=True)))
        for field, value in fields.items():
            setattr(model, field, value)
        model.full_clean()
        model.save()
        if tags is not None:
            model.tags.set(_tags(tags))
        after = dict(snapshot(model, MODEL_FIELDS), tags=sorted(model.tags.values_list("name", flat=True)))
        changes = changes_between(before, after)
        if changes:
            audit_record(actor=actor, action=Action.MODEL_UPDATED, target=model, project=model.project, changes=changes)
    return model


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


def version_create(
    *,
    actor: User,
    model: RegisteredModel,
    artifact_uri: str | Unset = UNSET,
    artifact_sha256: str | Unset = UNSET,
    framework: str | Unset = UNSET,
    training_dataset: DatasetVersion | None | Unset = UNSET,
    parent: ModelVersion | None | Unset = UNSET,
    source_run_id: str | Unset = UNSET,
    metrics: dict[str, Any] | Unset = UNSET,
    description: str | Unset = UNSET,
) -> ModelVersion:
    """Register a new version (numbered 1, 2, 3 … per model) with an empty model card.

    Side effects: ``registry.model_version.created``. Raises PermissionDenied, ValidationError.
    """
    require(can.can_register_version(actor, model), BUILD_DENIED)
    fields = given(
        artifact_uri=artifact_uri,
        artifact_sha256=artifact_sha256,
        framework=framework,
        training_dataset=training_dataset,
        parent=parent,
        source_run_id=source_run_id,
        metrics=metrics,
        description=description,
    )
    _check_links(actor, model, fields)
    with transaction.atomic():
        RegisteredModel.objects.select_for_update(no_key=True).filter(pk=model.pk).first()  # serialise numbering
        number = (model.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ModelVersion(model=model, number=number, created_by=actor, **fields)
        version.full_clean()
        version.save()
        ModelCard.objects.create(version=version, updated_by=actor)
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
    artifact_uri: str | Unset = UNSET,
    artifact_sha256: str | Unset = UNSET,
    framework: str | Unset = UNSET,
    training_dataset: DatasetVersion | None | Unset = UNSET,
    parent: ModelVersion | None | Unset = UNSET,
    source_run_id: str | Unset = UNSET,
    metrics: dict[str, Any] | Unset = UNSET,
    description: str | Unset = UNSET,
) -> ModelVersion:
    """Change the fields given of a version. Its artifact is frozen once it leaves draft: a change means a new version.

    Side effects: ``registry.model_version.updated``. Raises PermissionDenied, ValidationError.
    """
    model = version.model
    require(can.can_edit_version(actor, version), BUILD_DENIED)
    fields = given(
        artifact_uri=artifact_uri,
        artifact_sha256=artifact_sha256,
        framework=framework,
        training_dataset=training_dataset,
        parent=parent,
        source_run_id=source_run_id,
        metrics=metrics,
        description=description,
    )
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


def card_update(*, actor: User, card: ModelCard, sections: dict[str, str]) -> ModelCard:
    """Write sections of a model card; a new revision keeps who changed what.

    Side effects: a ``ModelCardRevision`` and ``registry.model_card.updated`` with before/after of
    the changed sections. Raises PermissionDenied, ValidationError.
    """
    project = card.version.model.project
    require(can.can_edit_card(actor, card.version), BUILD_DENIED)
    if version_under_review(card.version_id):
        # Reviewers sign the evidence they saw; a change now would void their decisions mid-review.
        raise ValidationError({"card": "The version is in review: wait for the decision, or ask for changes."})
    unknown = set(sections) - set(CARD_SECTION_NAMES)
    if unknown:
        raise ValidationError({name[:64]: "This is not a section of the model card." for name in sorted(unknown)})
    too_long = [
        name for name, text in sections.items() if not isinstance(text, str) or len(text) > rules.CARD_SECTION_MAX_CHARS
    ]
    if too_long:
        raise ValidationError(
            dict.fromkeys(too_long, f"Write text of at most {rules.CARD_SECTION_MAX_CHARS:,} characters.")
        )
    with transaction.atomic():
        card = ModelCard.objects.select_for_update(no_key=True).get(pk=card.pk)
        before = snapshot(card, CARD_SECTION_NAMES)
        for name, text in sections.items():
            setattr(card, name, text.strip())
        after = snapshot(card, CARD_SECTION_NAMES)
        changes = changes_between(before, after)
        if not changes:
            return card
        card.revision += 1
        card.updated_by = actor
        card.updated_at = timezone.now()
        card.save()
        ModelCardRevision.objects.create(
            card=card, revision=card.revision, sections=after, changed=sorted(changes), author=actor
        )
        audit_record(
            actor=actor,
            action=Action.MODEL_CARD_UPDATED,
            target=card.version,
            project=project,
            changes=changes,
            data={"revision": card.revision},
        )
    return card


def dataset_create(
    *,
    actor: User,
    project: Project,
    name: str,
    description: str | Unset = UNSET,
    source: str | Unset = UNSET,
    sensitivity: str | Unset = UNSET,
    contains_personal_data: bool | Unset = UNSET,
) -> Dataset:
    """Add a dataset to the catalogue, owned by its creator. Side effects: ``registry.dataset.created``."""
    require(can.can_add_dataset(actor, project), BUILD_DENIED)
    fields = given(
        name=name,
        description=description,
        source=source,
        sensitivity=sensitivity,
        contains_personal_data=contains_personal_data,
    )
    dataset = Dataset(project=project, owner=actor, **fields)
    if Dataset.objects.filter(project=project, name=dataset.name).exists():
        raise ValidationError({"name": "This project already has a dataset with this name."})
    dataset.full_clean()
    with transaction.atomic():
        with unique_or_invalid("name", "This project already has a dataset with this name."):
            dataset.save()
        audit_record(
            actor=actor,
            action=Action.DATASET_CREATED,
            target=dataset,
            project=project,
            changes=changes_between({}, snapshot(dataset, DATASET_FIELDS)),
        )
    return dataset


def dataset_update(
    *,
    actor: User,
    dataset: Dataset,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    source: str | Unset = UNSET,
    sensitivity: str | Unset = UNSET,
    contains_personal_data: bool | Unset = UNSET,
) -> Dataset:
    """Change those given of a dataset's name, description, source and sensitivity.

    Side effects: ``registry.dataset.updated``.
    """
    require(can.can_edit_dataset(actor, dataset), BUILD_DENIED)
    fields = given(
        name=name,
        description=description,
        source=source,
        sensitivity=sensitivity,
        contains_personal_data=contains_personal_data,
    )
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update(no_key=True).get(pk=dataset.pk)
        if "name" in fields:  # a key may change: that write comes after the chain lock (0015)
            audit_chain_lock()
        before = snapshot(dataset, DATASET_FIELDS)
        for field, value in fields.items():
            setattr(dataset, field, value)
        if Dataset.objects.filter(project=dataset.project, name=dataset.name).exclude(pk=dataset.pk).exists():
            raise ValidationError({"name": "This project already has a dataset with this name."})
        dataset.full_clean()
        with unique_or_invalid("name", "This project already has a dataset with this name."):
            dataset.save()
        changes = changes_between(before, snapshot(dataset, DATASET_FIELDS))
        if changes:
            audit_record(
                actor=actor, action=Action.DATASET_UPDATED, target=dataset, project=dataset.project, changes=changes
            )
    return dataset


def _next_dataset_number(dataset: Dataset) -> int:
    Dataset.objects.select_for_update(no_key=True).filter(pk=dataset.pk).first()
    return (dataset.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def dataset_version_upload(*, actor: User, dataset: Dataset, path: Path, original_name: str) -> DatasetVersion:
    """Add a version from an uploaded file at ``path`` (a temporary file), after checking it.

    The file is refused before any parsing if it is not what its name claims, then read for its
    schema and row count, hashed, and moved under a generated name. Side effects: the stored file,
    ``registry.dataset_version.created``. Raises PermissionDenied, ValidationError (nothing stored).
    """
    require(can.can_add_dataset_version(actor, dataset), BUILD_DENIED)
    base_name = Path(original_name.replace("\\", "/")).name or "upload"
    suffix = Path(base_name).suffix[:16]
    safe_name = base_name if len(base_name) <= 200 else base_name[: 200 - len(suffix)] + suffix
    try:
        file_format = ingest.detect_format(base_name)
        facts = ingest.inspect_file(path, claimed_format=file_format)
    except ingest.UnusableFile as exc:
        raise ValidationError({"file": str(exc)}) from None
    relative = f"datasets/{uuid.uuid4().hex}.{facts.format}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with transaction.atomic():
            number = _next_dataset_number(dataset)
            shutil.copyfile(path, target)
            target.chmod(0o640)
            version = DatasetVersion.objects.create(
                dataset=dataset,
                number=number,
                format=facts.format,
                file=relative,
                original_name=safe_name,
                sha256=facts.sha256,
                size=facts.size,
                row_count=facts.row_count,
                columns=facts.columns,
                created_by=actor,
            )
            audit_record(
                actor=actor,
                action=Action.DATASET_VERSION_CREATED,
                target=version,
                project=dataset.project,
                data={
                    "dataset": dataset.name,
                    "number": number,
                    "format": facts.format,
                    "sha256": facts.sha256,
                    "rows": facts.row_count,
                    "columns": len(facts.columns),
                    "original_name": safe_name,
                },
            )
    except BaseException:
        target.unlink(missing_ok=True)  # nothing is kept of a version that was not recorded
        raise
    return version


def dataset_version_link(*, actor: User, dataset: Dataset, uri: str, sha256: str = "") -> DatasetVersion:
    """Add a version that lives elsewhere (a URI). Side effects: ``registry.dataset_version.created``."""
    require(can.can_add_dataset_version(actor, dataset), BUILD_DENIED)
    uri = uri.strip()
    if not uri or len(uri) > rules.URI_MAX_CHARS or "://" not in uri:
        raise ValidationError({"uri": "Give the data's location as a URI, such as s3://bucket/path/data.parquet."})
    sha256 = sha256.strip().lower()
    if sha256 and (len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256)):
        raise ValidationError({"sha256": "A SHA-256 is 64 hexadecimal characters."})
    with transaction.atomic():
        number = _next_dataset_number(dataset)
        version = DatasetVersion.objects.create(
            dataset=dataset, number=number, format=FileFormat.URI, uri=uri, sha256=sha256, created_by=actor
        )
        audit_record(
            actor=actor,
            action=Action.DATASET_VERSION_CREATED,
            target=version,
            project=dataset.project,
            data={"dataset": dataset.name, "number": number, "uri": uri, "sha256": sha256},
        )
    return version
