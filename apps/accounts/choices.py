from __future__ import annotations

from django.db import models


class TeamFunction(models.TextChoices):
    BUSINESS = "business", "Business"
    DATA_SCIENCE = "data_science", "Data science"
    IT_OPS = "it_ops", "IT / operations"
    RISK_VALIDATION = "risk_validation", "Risk validation"
    COMPLIANCE = "compliance", "Compliance"
    AUDIT = "audit", "Audit"
