"""The bridge's API shapes. A connection names where its secrets are, never what they are."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api import strict
from apps.integrations.choices import AuthKind
from apps.integrations.models import MlflowConnection, MlflowModel
from apps.integrations.selectors import WEBHOOK_EVENTS, webhook_url

UNKNOWN_FIELD = "Unknown field: this request has no such field."


class NoUnknownFields:
    """Refuse a body key the serializer does not know (a typo would otherwise change nothing, silently)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(self, serializers.Serializer)
        initial = self.initial_data
        if isinstance(initial, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(str(key)[:60] for key in initial if key not in writable)
            if unknown:
                raise serializers.ValidationError({key: [UNKNOWN_FIELD] for key in unknown})
        return attrs


class CheckSerializer(serializers.Serializer[dict[str, Any]]):
    check = strict.CharField(read_only=True, help_text="reachable, authenticated, registry, webhooks, webhook secret")
    ok = strict.BooleanField(read_only=True)
    message = strict.CharField(read_only=True)


class ConnectionSerializer(NoUnknownFields, strict.ModelSerializer[MlflowConnection]):
    # Checked by the service too (prefix, folder, aliases), so the API and the page say the same.
    url = strict.CharField(max_length=300, help_text="The tracking server: an http:// or https:// address")
    auth_kind = strict.ChoiceField(choices=AuthKind.choices, required=False)
    protected_aliases = serializers.DictField(
        child=strict.CharField(max_length=40),
        required=False,
        help_text='Alias -> environment whose gate its version must pass: {"champion": "production"}',
    )
    service_user = strict.CharField(source="service_user.username", read_only=True)
    created_by = strict.CharField(source="created_by.username", read_only=True)
    webhook_url = serializers.SerializerMethodField(help_text="Where MLflow sends this connection's webhooks")
    webhook_events = serializers.SerializerMethodField(help_text="The events the MLflow webhook subscribes to")
    intake_count = serializers.SerializerMethodField(help_text="MLflow models waiting in the intake list")
    test_result = CheckSerializer(many=True, read_only=True)

    class Meta:
        model = MlflowConnection
        fields: tuple[str, ...] = (
            "name", "url", "auth_kind", "username", "secret_env", "secret_file", "webhook_secret_env",
            "webhook_secret_file", "project_tag", "protected_aliases", "restore_aliases", "write_back", "enabled",
            "service_user", "created_by", "created_at", "webhook_url", "webhook_events", "intake_count",
            "reconcile_status", "reconcile_started_at", "reconciled_at", "reconcile_message", "tested_at",
            "test_result",
        )  # fmt: skip
        read_only_fields: tuple[str, ...] = (
            "service_user", "created_by", "created_at", "reconcile_status", "reconcile_started_at", "reconciled_at",
            "reconcile_message", "tested_at", "test_result",
        )  # fmt: skip
        extra_kwargs: dict[str, dict[str, Any]] = {
            # The service runs the model's validators (and names the same fields in its errors).
            name: {"validators": []}
            for name in ("name", "secret_env", "secret_file", "webhook_secret_env", "webhook_secret_file")
        }

    def get_webhook_url(self, obj: MlflowConnection) -> str:
        return webhook_url(obj)

    def get_webhook_events(self, obj: MlflowConnection) -> list[str]:
        return list(WEBHOOK_EVENTS)

    def get_intake_count(self, obj: MlflowConnection) -> int:
        return int(getattr(obj, "intake_count", 0))


class ConnectionUpdateSerializer(ConnectionSerializer):
    class Meta(ConnectionSerializer.Meta):
        read_only_fields = (*ConnectionSerializer.Meta.read_only_fields, "name")


class TestResultSerializer(serializers.Serializer[dict[str, Any]]):
    ok = strict.BooleanField(read_only=True, help_text="Whether every check passed")
    checks = CheckSerializer(many=True, read_only=True)


class ReconcileRequestedSerializer(serializers.Serializer[dict[str, Any]]):
    queued = strict.BooleanField(read_only=True)
    message = strict.CharField(read_only=True)


class IntakeModelSerializer(strict.ModelSerializer[MlflowModel]):
    """An MLflow model waiting for a project: its name and tags, nothing of its files or runs."""

    connection = strict.CharField(source="connection.name", read_only=True)
    version_count = serializers.SerializerMethodField()

    class Meta:
        model = MlflowModel
        fields = ("id", "connection", "name", "tags", "version_count", "seen_at")
        read_only_fields = fields

    def get_version_count(self, obj: MlflowModel) -> int:
        return int(getattr(obj, "version_count", 0))


class ClaimSerializer(NoUnknownFields, serializers.Serializer[dict[str, Any]]):
    project = strict.CharField(max_length=100, help_text="The slug of a project you own")


class ClaimedSerializer(serializers.Serializer[dict[str, Any]]):
    model = strict.IntegerField(read_only=True, help_text="The id of the Signet model that now governs it")
    project = strict.CharField(read_only=True)
    name = strict.CharField(read_only=True)
