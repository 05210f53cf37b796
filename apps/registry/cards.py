"""Model card completeness: which sections a tier requires, and how many are written."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from apps.projects.choices import UNQUALIFIED_TIER, tier_in_force
from apps.registry.choices import CARD_SECTION_MIN_CHARS, CARD_SECTIONS
from apps.registry.models import ModelCard

_TITLES = {name: title for name, title, _help in CARD_SECTIONS}


@dataclass(frozen=True)
class Completeness:
    tier: str
    required: list[str]
    written: list[str]
    missing: list[str]

    @property
    def percent(self) -> int:
        return 100 if not self.required else round(100 * len(self.written) / len(self.required))

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def missing_titles(self) -> list[str]:
        return [_TITLES[name] for name in self.missing]


def required_sections(tier: str) -> list[str]:
    """Return the sections a tier requires; an unqualified project is held to the high tier."""
    table: dict[str, list[str]] = settings.SIGNET_CARD_REQUIRED_SECTIONS
    return list(table.get(tier_in_force(tier), table[UNQUALIFIED_TIER]))


def section_is_written(text: str) -> bool:
    return len(" ".join(text.split())) >= CARD_SECTION_MIN_CHARS


def card_completeness(card: ModelCard, tier: str) -> Completeness:
    """Return how complete ``card`` is for ``tier``."""
    required = required_sections(tier)
    written = [name for name in required if section_is_written(getattr(card, name))]
    missing = [name for name in required if name not in written]
    return Completeness(tier=tier_in_force(tier), required=required, written=written, missing=missing)
