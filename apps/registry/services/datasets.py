"""The data catalogue: datasets and their versions, uploaded or linked."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Unpack

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_chain_lock, audit_record, changes_between, snapshot
from apps.core.permissions import require, unique_or_invalid
from apps.projects.models import Project
from apps.registry import ingest, rules
from apps.registry import permissions as can
from apps.registry.choices import FileFormat
from apps.registry.models import (
    Dataset,
    DatasetVersion,
)
from apps.registry.services.common import DATASET_FIELDS, DatasetDetails, DatasetFields, only_known


def dataset_create(
    *,
    actor: User,
    project: Project,
    name: str,
    **values: Unpack[DatasetDetails],
) -> Dataset:
    """Add a dataset to the catalogue, owned by its creator. Side effects: ``registry.dataset.created``."""
    require(can.can_add_dataset(actor, project), can.BUILD_DENIED)
    fields = {"name": name, **only_known(values, DATASET_FIELDS, "dataset_create")}
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
    **values: Unpack[DatasetFields],
) -> Dataset:
    """Change those given of a dataset's name, description, source and sensitivity.

    Side effects: ``registry.dataset.updated``.
    """
    require(can.can_edit_dataset(actor, dataset), can.BUILD_DENIED)
    fields = only_known(values, DATASET_FIELDS, "dataset_update")
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
    require(can.can_add_dataset_version(actor, dataset), can.BUILD_DENIED)
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
    require(can.can_add_dataset_version(actor, dataset), can.BUILD_DENIED)
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
