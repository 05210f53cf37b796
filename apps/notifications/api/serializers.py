from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api import strict
from apps.core.api.fields import IdField
from apps.notifications.choices import Event
from apps.notifications.models import Notification, WebhookAttempt, WebhookDelivery, WebhookSubscription


class NotificationSerializer(strict.ModelSerializer[Notification]):
    project = strict.CharField(source="project.slug", read_only=True, allow_null=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ("id", "event", "title", "body", "url", "project", "created_at", "read", "read_at", "email_status")
        read_only_fields = fields

    def get_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class MarkReadSerializer(serializers.Serializer[dict[str, Any]]):
    ids = serializers.ListField(child=IdField(), required=False, max_length=1000)
    all = strict.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError("Give the ids to mark read, or all: true.")
        return attrs


class WebhookSerializer(strict.ModelSerializer[WebhookSubscription]):
    # Checked by the service (format, credentials, internal addresses), so the API and the page say the same.
    url = strict.CharField(max_length=500, help_text="The receiver: a public http:// or https:// address")
    events = serializers.ListField(
        child=strict.ChoiceField(choices=Event.choices), allow_empty=False, max_length=len(Event.values)
    )
    created_by = strict.CharField(source="created_by.username", read_only=True)
    secret_hint = serializers.SerializerMethodField(help_text="The secret's first characters, to tell keys apart")

    class Meta:
        model = WebhookSubscription
        fields: tuple[str, ...] = (
            "id", "url", "events", "description", "is_active", "created_by", "created_at", "secret_hint"
        )  # fmt: skip
        read_only_fields = ("id", "created_by", "created_at", "secret_hint")

    def get_secret_hint(self, obj: WebhookSubscription) -> str:
        return obj.secret[:10] + "…"


class WebhookCreatedSerializer(WebhookSerializer):
    """The answer to a new subscription: the only time the signing secret is shown."""

    secret = strict.CharField(read_only=True)

    class Meta(WebhookSerializer.Meta):
        fields: tuple[str, ...] = (*WebhookSerializer.Meta.fields, "secret")


class WebhookSecretSerializer(serializers.Serializer[dict[str, Any]]):
    keep_previous_hours = strict.IntegerField(
        min_value=0,
        max_value=7 * 24,
        default=24,
        help_text="Hours the old secret goes on signing beside the new one; 0 stops it now (a leaked secret)",
    )


class WebhookAttemptSerializer(strict.ModelSerializer[WebhookAttempt]):
    class Meta:
        model = WebhookAttempt
        fields = ("number", "attempted_at", "status_code", "error", "duration_ms")
        read_only_fields = fields


class WebhookDeliverySerializer(strict.ModelSerializer[WebhookDelivery]):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "subscription",
            "event_id",
            "event",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "attempt_log",
        )
        read_only_fields = fields
