"""Choices of the MLflow bridge."""

from __future__ import annotations

from django.db import models


class AuthKind(models.TextChoices):
    NONE = "none", "None (a server on a trusted network)"
    TOKEN = "token", "Bearer token"
    BASIC = "basic", "Basic (username and password)"


class ArtifactState(models.TextChoices):
    PENDING = "pending", "Not hashed yet"
    HASHED = "hashed", "Hashed"
    UNREACHABLE = "unreachable", "Artifact store not reachable"
    FAILED = "failed", "Hashing failed"


class ReconcileStatus(models.TextChoices):
    NEVER = "never", "Never run"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class DeliveryState(models.TextChoices):
    QUEUED = "queued", "Queued"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
