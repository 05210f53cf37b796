"""Default approval policies (data, created by migration workflows.0002)."""

from __future__ import annotations

from typing import Any

from apps.projects.choices import RiskTier

# A stage names the project roles that may sign it (any of them), optionally a team the signer must
# belong to, whether it must be independent of the builders, its quorum of distinct people, and
# whether it runs in parallel with the stage before it ("parallel": true).
BUSINESS = {"key": "business", "name": "Business sign-off", "project_roles": ["business_owner", "owner"], "quorum": 1}
IT = {"key": "it_readiness", "name": "IT readiness", "project_roles": ["it_ops"], "team": "it_ops", "quorum": 1}
COMPLIANCE = {
    "key": "compliance",
    "name": "Compliance",
    "project_roles": ["compliance"],
    "team": "compliance",
    "quorum": 1,
}
# Stages of the first defaults that named a role but no team (migration workflows.0008 adds the team).
TEAM_OF_DEFAULT_STAGE = {"it_readiness": ("it_ops", "it_ops"), "compliance": ("compliance", "compliance")}


def validation(quorum: int) -> dict[str, Any]:
    return {
        "key": "validation",
        "name": "Independent validation",
        "project_roles": ["validator"],
        "team": "risk_validation",
        "independent": True,
        "quorum": quorum,
    }


DEFAULT_POLICIES: dict[str, dict[str, Any]] = {
    RiskTier.HIGH: {"stages": [BUSINESS, validation(2), IT, COMPLIANCE], "review_period_days": 365},
    RiskTier.MEDIUM: {"stages": [BUSINESS, validation(1), IT], "review_period_days": 548},
    RiskTier.LOW: {"stages": [validation(1)], "review_period_days": 730},
}
