from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api import strict
from apps.core.api.fields import IdField, JSONObjectField
from apps.validation.models import CheckResult, ValidationRun, ValidationSuite


class CheckResultSerializer(strict.ModelSerializer[CheckResult]):
    check = strict.CharField(source="check_name")
    column = serializers.SerializerMethodField()
    attribute = serializers.SerializerMethodField()
    group = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()
    value = serializers.SerializerMethodField(method_name="value_of")

    class Meta:
        model = CheckResult
        fields = ("check", "metric", "column", "attribute", "group", "value", "status", "threshold", "message")
        read_only_fields = fields

    def get_column(self, obj: CheckResult) -> str | None:
        return obj.column or None

    def get_attribute(self, obj: CheckResult) -> str | None:
        return obj.attribute or None

    def get_group(self, obj: CheckResult) -> str | None:
        return obj.group or None

    def get_message(self, obj: CheckResult) -> str | None:
        return obj.message or None

    def value_of(self, obj: CheckResult) -> float | str | None:
        return obj.value if obj.value is not None else (obj.value_text or None)


class ValidationRunSerializer(strict.ModelSerializer[ValidationRun]):
    suite = strict.CharField(source="suite.name", read_only=True, allow_null=True)
    created_by = strict.CharField(source="created_by.username", read_only=True, allow_null=True)
    results = serializers.SerializerMethodField()

    class Meta:
        model = ValidationRun
        fields = (
            "id", "version", "suite", "spec", "reference", "current", "trigger", "status", "outcome", "progress",
            "step", "attempts", "worker", "error", "created_by", "created_at", "started_at", "finished_at", "results",
        )  # fmt: skip
        read_only_fields = fields

    def get_results(self, obj: ValidationRun) -> list[dict[str, Any]]:
        if not self.context.get("with_results"):
            return []
        return list(CheckResultSerializer(obj.results.all(), many=True).data)


class ValidationRunCreateSerializer(serializers.Serializer[dict[str, Any]]):
    version = IdField()
    reference = IdField(help_text="Dataset version id of the reference data")
    current = IdField(help_text="Dataset version id of the current data")
    suite = IdField(required=False, help_text="A stored suite of the project")
    spec = JSONObjectField(required=False, help_text="A suite as JSON (DESIGN.md §6); the default suite if omitted")


class ValidationSuiteSerializer(strict.ModelSerializer[ValidationSuite]):
    project = strict.CharField(source="project.slug", read_only=True)
    created_by = strict.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = ValidationSuite
        fields = (
            "id", "project", "model", "name", "spec", "reference", "current_dataset", "schedule_hours",
            "last_scheduled_at", "created_by", "created_at",
        )  # fmt: skip
        read_only_fields = fields


class ValidationSuiteCreateSerializer(serializers.Serializer[dict[str, Any]]):
    project = strict.SlugField()
    name = strict.CharField(max_length=120)
    spec = JSONObjectField(help_text="A suite as JSON (DESIGN.md §6)")
    model = IdField(required=False, allow_null=True, default=None)
    reference = IdField(required=False, allow_null=True, default=None)
    current_dataset = IdField(required=False, allow_null=True, default=None)
    schedule_hours = strict.IntegerField(min_value=1, max_value=2160, required=False, allow_null=True, default=None)
