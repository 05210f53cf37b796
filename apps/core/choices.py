"""Choices shared by every app."""

from __future__ import annotations

from django.db import models


class AuthMethod(models.TextChoices):
    ANONYMOUS = "anonymous", "Not signed in"
    SESSION = "session", "Browser session"
    TOKEN = "token", "API token"
    TASK = "task", "Background task"
    SYSTEM = "system", "System (command line, migration)"
