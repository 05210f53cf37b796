"""Choices shared by every app."""

from __future__ import annotations

from django.db import models


class AuthMethod(models.TextChoices):
    ANONYMOUS = "anonymous", "Not signed in"
    SESSION = "session", "Browser session"
    TOKEN = "token", "API token"
    TASK = "task", "Background task"
    SYSTEM = "system", "System (command line, migration)"


class TeamFunction(models.TextChoices):
    """What a team does in the organisation: the roles of DESIGN.md section 4 follow from it."""

    BUSINESS = "business", "Business"
    DATA_SCIENCE = "data_science", "Data science"
    IT_OPS = "it_ops", "IT / operations"
    RISK_VALIDATION = "risk_validation", "Risk validation"
    COMPLIANCE = "compliance", "Compliance"
    AUDIT = "audit", "Audit"
