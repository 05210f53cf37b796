"""In-app notifications with their e-mail copy, webhook subscriptions and the log of their deliveries.

Rows are written in the transaction of the change they announce (so nothing is lost when a worker
or the broker is down); Celery sends the e-mail and the HTTP requests after commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.notifications.choices import DeliveryStatus, EmailStatus, Event


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=40, choices=Event.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True, help_text="Path of the page the notification is about")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    dedupe_key = models.CharField(max_length=120, blank=True, help_text="Set for reminders sent once per subject")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox"),
            models.Index(fields=["email_status", "created_at"], name="notification_email_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_once_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (to {self.recipient_id})"


class WebhookSubscription(models.Model):
    url = models.URLField(max_length=500)
    events = models.JSONField(help_text="Event types delivered to this URL")
    secret = models.CharField(max_length=100, help_text="Key of the HMAC-SHA256 signature; shown once")
    # After a replacement, the old secret signs too until ``previous_secret_until``, so receivers can
    # be moved to the new one without refusing deliveries meanwhile (docs/webhooks.md).
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Webhook {self.pk} to {self.url}"

    def previous_secret_in_use(self, now: datetime) -> str | None:
        """The replaced secret while it still signs, else None."""
        until = self.previous_secret_until
        return self.previous_secret if self.previous_secret and until is not None and now < until else None


class WebhookDelivery(models.Model):
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, help_text="Same for every delivery of one event")
    event = models.CharField(max_length=40, choices=Event.choices)
    payload = models.JSONField()
    dedupe_key = models.CharField(max_length=120, blank=True, help_text="Set for reminders sent once per subject")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="delivery_once_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} to webhook {self.subscription_id}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: the log administrators read when a receiver misbehaves."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="attempt_unique_number")]

    def __str__(self) -> str:
        return f"Attempt {self.number} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
