"""Start-up check: the model card rules of the settings name every risk tier and only card sections."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from apps.projects.choices import RiskTier
from apps.registry.choices import CARD_SECTION_NAMES


@register()
def card_rules_cover_the_risk_tiers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    table = settings.SIGNET_CARD_REQUIRED_SECTIONS
    errors: list[CheckMessage] = []
    if set(table) != set(RiskTier.values):
        errors.append(
            Error(
                f"SIGNET_CARD_REQUIRED_SECTIONS names the tiers {sorted(table)}, not {sorted(RiskTier.values)}.",
                id="signet.E101",
            )
        )
    unknown = sorted({name for names in table.values() for name in names} - set(CARD_SECTION_NAMES))
    if unknown:
        errors.append(
            Error(
                f"SIGNET_CARD_REQUIRED_SECTIONS names sections the model card does not have: {unknown}.",
                id="signet.E102",
            )
        )
    return errors
