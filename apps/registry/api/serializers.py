from __future__ import annotations

from typing import Any

from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api import strict
from apps.core.api.fields import IdField
from apps.registry import rules
from apps.registry.cards import card_completeness
from apps.registry.choices import CARD_SECTION_NAMES, ModelTask, Sensitivity
from apps.registry.forms import parse_metrics
from apps.registry.models import Dataset, DatasetVersion, ModelCard, ModelVersion, RegisteredModel
from apps.registry.services.common import VERSION_FIELDS


class VersionBriefSerializer(strict.ReadModelSerializer[ModelVersion]):
    class Meta:
        model = ModelVersion
        fields = ("id", "number", "status")
        read_only_fields = fields


class RegisteredModelSerializer(strict.ReadModelSerializer[RegisteredModel]):
    project = strict.CharField(source="project.slug", read_only=True)
    tags = serializers.SerializerMethodField()
    latest_version = serializers.SerializerMethodField()
    created_by = strict.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = RegisteredModel
        fields = ("id", "name", "project", "task", "description", "tags", "latest_version", "created_by", "created_at")
        read_only_fields = fields

    def get_tags(self, model: RegisteredModel) -> list[str]:
        names = getattr(model, "tag_names", None)  # selectors.with_tag_names: one query for a page
        return list(names) if names is not None else [tag.name for tag in model.tags.all()]

    @extend_schema_field(VersionBriefSerializer(allow_null=True))
    def get_latest_version(self, model: RegisteredModel) -> dict[str, Any] | None:
        # Annotated by selectors.models_with_latest_version: no version is fetched to name the latest.
        if model.latest_version_id is None:  # type: ignore[attr-defined]
            return None
        return {
            "id": model.latest_version_id,  # type: ignore[attr-defined]
            "number": model.latest_version_number,  # type: ignore[attr-defined]
            "status": model.latest_version_status,  # type: ignore[attr-defined]
        }


def tag_list_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=strict.SlugField(max_length=rules.TAG_MAX_CHARS), max_length=rules.MAX_TAGS, **kwargs
    )


class RegisteredModelCreateSerializer(serializers.Serializer[dict[str, Any]]):
    project = strict.SlugField(help_text="slug of a project you develop in")
    name = strict.SlugField(max_length=rules.MODEL_NAME_MAX_CHARS)
    task = strict.ChoiceField(choices=ModelTask.choices)
    description = strict.CharField(max_length=rules.DESCRIPTION_MAX_CHARS, required=False, allow_blank=True, default="")
    tags = tag_list_field(required=False, default=list)


class RegisteredModelUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    task = strict.ChoiceField(choices=ModelTask.choices, required=False)
    description = strict.CharField(max_length=rules.DESCRIPTION_MAX_CHARS, required=False, allow_blank=True)
    tags = tag_list_field(required=False)


class ModelVersionSerializer(strict.ReadModelSerializer[ModelVersion]):
    model = strict.CharField(source="model.name", read_only=True)
    created_by = strict.CharField(source="created_by.username", read_only=True)
    card_revision = strict.IntegerField(source="card.revision", read_only=True)
    card_completeness = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = (
            "id",
            "model",
            "number",
            "status",
            *VERSION_FIELDS,
            "card_revision",
            "card_completeness",
            "created_by",
            "created_at",
        )
        read_only_fields = fields

    def get_card_completeness(self, version: ModelVersion) -> dict[str, Any]:
        done = card_completeness(version.card, version.model.project.risk_tier)
        return {"tier": done.tier, "percent": done.percent, "required": done.required, "missing": done.missing}


@extend_schema_field({"type": "object", "additionalProperties": {"type": "number"}, "description": "name: value"})
class MetricsField(serializers.JSONField):
    def to_internal_value(self, data: Any) -> dict[str, float]:
        try:
            return parse_metrics(data if data is not None else {})
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class ModelVersionWriteSerializer(serializers.Serializer[dict[str, Any]]):
    artifact_uri = strict.CharField(max_length=rules.URI_MAX_CHARS, required=False, allow_blank=True)
    artifact_sha256 = strict.RegexField(rules.SHA256_PATTERN, required=False, allow_blank=True)
    framework = strict.CharField(max_length=rules.FRAMEWORK_MAX_CHARS, required=False, allow_blank=True)
    training_dataset = IdField(required=False, allow_null=True)
    # DRF moves declared fields off the class, so these names do not clash with Field.parent/.source.
    parent = IdField(required=False, allow_null=True)  # type: ignore[assignment]
    source_run_id = strict.CharField(max_length=rules.SOURCE_RUN_ID_MAX_CHARS, required=False, allow_blank=True)
    metrics = MetricsField(required=False)
    description = strict.CharField(max_length=rules.DESCRIPTION_MAX_CHARS, required=False, allow_blank=True)

    def validate_artifact_sha256(self, value: str) -> str:
        return value.lower()


class ModelCardSerializer(strict.ReadModelSerializer[ModelCard]):
    sections = serializers.SerializerMethodField()
    completeness = serializers.SerializerMethodField()
    updated_by = strict.CharField(source="updated_by.username", read_only=True, default=None)

    class Meta:
        model = ModelCard
        fields = ("revision", "sections", "completeness", "updated_by", "updated_at")
        read_only_fields = fields

    def get_sections(self, card: ModelCard) -> dict[str, str]:
        return {name: getattr(card, name) for name in CARD_SECTION_NAMES}

    def get_completeness(self, card: ModelCard) -> dict[str, Any]:
        done = card_completeness(card, card.version.model.project.risk_tier)
        return {"tier": done.tier, "percent": done.percent, "required": done.required, "missing": done.missing}


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            name: {"type": "string", "maxLength": rules.CARD_SECTION_MAX_CHARS} for name in CARD_SECTION_NAMES
        },
        "additionalProperties": False,
        "minProperties": 1,
    }
)
class CardSectionsField(serializers.DictField):
    """The sections to write, by name; at least one."""


class ModelCardWriteSerializer(serializers.Serializer[dict[str, Any]]):
    sections = CardSectionsField(
        child=strict.CharField(max_length=rules.CARD_SECTION_MAX_CHARS, allow_blank=True), allow_empty=False
    )


class DatasetSerializer(strict.ReadModelSerializer[Dataset]):
    project = strict.CharField(source="project.slug", read_only=True)
    owner = strict.CharField(source="owner.username", read_only=True)

    class Meta:
        model = Dataset
        fields = (
            "id",
            "project",
            "name",
            "description",
            "owner",
            "source",
            "sensitivity",
            "contains_personal_data",
            "created_at",
        )
        read_only_fields = fields


class DatasetCreateSerializer(serializers.Serializer[dict[str, Any]]):
    project = strict.SlugField()
    name = strict.CharField(max_length=rules.DATASET_NAME_MAX_CHARS)
    description = strict.CharField(max_length=rules.DESCRIPTION_MAX_CHARS, required=False, allow_blank=True, default="")
    source = strict.CharField(max_length=rules.DATASET_SOURCE_MAX_CHARS, required=False, allow_blank=True, default="")  # type: ignore[assignment]
    sensitivity = strict.ChoiceField(choices=Sensitivity.choices, required=False, default=Sensitivity.INTERNAL)
    contains_personal_data = strict.BooleanField(required=False, default=False)


class DatasetVersionSerializer(strict.ReadModelSerializer[DatasetVersion]):
    created_by = strict.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = DatasetVersion
        fields = (
            "id",
            "number",
            "format",
            "uri",
            "original_name",
            "sha256",
            "size",
            "row_count",
            "columns",
            "created_by",
            "created_at",
        )
        read_only_fields = fields


class DatasetVersionLinkSerializer(serializers.Serializer[dict[str, Any]]):
    uri = strict.CharField(max_length=rules.URI_MAX_CHARS)
    sha256 = strict.CharField(max_length=rules.SHA256_CHARS, required=False, allow_blank=True, default="")
