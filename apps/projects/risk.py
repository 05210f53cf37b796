"""Derive a project's risk tier from its questionnaire answers.

The rule (docs/risk-tiers.md): every answer carries points; the score is their sum. An answer marked
``escalate`` makes the project high risk whatever the score (for example decisions with legal effect
on people). Otherwise the tier is high from ``high_from`` points, medium from ``medium_from``, else low.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from apps.projects.choices import RiskTier


@dataclass(frozen=True)
class TierDecision:
    tier: str
    score: int
    rationale: str


def _choices(question: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {choice["value"]: choice for choice in question["choices"]}


def validate_answers(questions: list[dict[str, Any]], answers: Any) -> dict[str, str]:
    """Return the answers as ``{question key: choice value}``; raise ValidationError naming each problem."""
    if not isinstance(answers, dict):
        raise ValidationError({"answers": "Send the answers as an object: {question key: chosen value}."})
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    known = {q["key"] for q in questions}
    for key in sorted(set(answers) - known):
        errors[str(key)[:64]] = "This is not a question of the questionnaire."
    for question in questions:
        value = answers.get(question["key"])
        if value in (None, ""):
            errors[question["key"]] = "Please answer this question."
        elif not isinstance(value, str) or value not in _choices(question):
            errors[question["key"]] = "Choose one of the offered answers."
        else:
            clean[question["key"]] = value
    if errors:
        raise ValidationError(errors)
    return clean


def derive_tier(
    *, questions: list[dict[str, Any]], high_from: int, medium_from: int, answers: dict[str, str]
) -> TierDecision:
    """Apply the tier rule to validated answers and explain the outcome in plain words."""
    score = 0
    escalations: list[str] = []
    contributions: list[str] = []
    for question in questions:
        choice = _choices(question)[answers[question["key"]]]
        points = int(choice.get("points", 0))
        score += points
        if points:
            contributions.append(f"{question['short']}: {choice['label']} (+{points})")
        if choice.get("escalate"):
            escalations.append(f"{question['short']}: {choice['label']}")
    if escalations:
        tier = RiskTier.HIGH
        why = "High risk because of " + "; ".join(escalations) + "."
    elif score >= high_from:
        tier, why = RiskTier.HIGH, f"High risk: a score of {score} reaches the high threshold of {high_from}."
    elif score >= medium_from:
        tier, why = RiskTier.MEDIUM, f"Medium risk: a score of {score} is between {medium_from} and {high_from - 1}."
    else:
        tier, why = RiskTier.LOW, f"Low risk: a score of {score} is below {medium_from}."
    detail = " Points from: " + "; ".join(contributions) + "." if contributions else ""
    return TierDecision(tier=str(tier), score=score, rationale=why + detail)
