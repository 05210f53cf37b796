from __future__ import annotations

from django.db import models

from apps.accounts.choices import TeamFunction


class ProjectStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    IN_PRODUCTION = "in_production", "In production"
    RETIRED = "retired", "Retired"


class RiskTier(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


# A project not yet qualified (no answers to the questionnaire) is held to the rules of the highest tier.
UNQUALIFIED_TIER = RiskTier.HIGH


def tier_in_force(tier: str) -> str:
    """Return the tier whose rules apply to a project of ``tier`` (the project's field may be empty)."""
    return tier or UNQUALIFIED_TIER


class ProjectRole(models.TextChoices):
    OWNER = "owner", "Owner"
    BUSINESS_OWNER = "business_owner", "Business owner"
    DEVELOPER = "developer", "Developer"
    IT_OPS = "it_ops", "IT operations"
    VALIDATOR = "validator", "Validator"
    COMPLIANCE = "compliance", "Compliance"
    VIEWER = "viewer", "Viewer"


class KpiDirection(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class DataAccessStatus(models.TextChoices):
    NEEDED = "needed", "Needed"
    REQUESTED = "requested", "Requested"
    GRANTED = "granted", "Granted"
    REFUSED = "refused", "Refused"


# Who may do what inside a project (one place; the predicates in permissions.py read these).
EDIT_PROJECT_ROLES = frozenset({ProjectRole.OWNER, ProjectRole.BUSINESS_OWNER})
MANAGE_MEMBER_ROLES = frozenset({ProjectRole.OWNER})
QUALIFY_ROLES = frozenset({ProjectRole.OWNER, ProjectRole.BUSINESS_OWNER})
BUILD_ROLES = frozenset({ProjectRole.OWNER, ProjectRole.DEVELOPER})

# Roles that judge a project (DESIGN section 4): held only by members of the matching team, and never by
# anyone who builds or owns the project.
JUDGE_TEAMS = {ProjectRole.VALIDATOR: TeamFunction.RISK_VALIDATION, ProjectRole.COMPLIANCE: TeamFunction.COMPLIANCE}
