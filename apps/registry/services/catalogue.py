"""Models in the registry: register one, change its description, task and tags."""

from __future__ import annotations

from django.db import transaction

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between, snapshot
from apps.core.permissions import require, unique_or_invalid
from apps.core.unset import UNSET, Unset, given
from apps.projects.models import Project
from apps.registry import permissions as can
from apps.registry.models import (
    RegisteredModel,
    Tag,
)
from apps.registry.services.common import MODEL_FIELDS


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
    require(can.can_register_model(actor, project), can.BUILD_DENIED)
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
    require(can.can_edit_model(actor, model), can.BUILD_DENIED)
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
