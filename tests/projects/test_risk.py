"""The risk tier rule: points, thresholds, escalation, and answers that do not fit."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError

from apps.projects.questionnaires import V1_HIGH_FROM, V1_MEDIUM_FROM, V1_QUESTIONS
from apps.projects.risk import derive_tier, validate_answers

CHOICES = {q["key"]: {c["value"]: c for c in q["choices"]} for q in V1_QUESTIONS}


def _tier(answers: dict[str, str]) -> tuple[str, int, str]:
    decision = derive_tier(questions=V1_QUESTIONS, high_from=V1_HIGH_FROM, medium_from=V1_MEDIUM_FROM, answers=answers)
    return decision.tier, decision.score, decision.rationale


def _expected(answers: dict[str, str]) -> tuple[str, int]:
    """The rule as docs/risk-tiers.md states it, written out independently."""
    chosen = [CHOICES[key][value] for key, value in answers.items()]
    score = sum(c["points"] for c in chosen)
    if any(c.get("escalate") for c in chosen):
        return "high", score
    return ("high" if score >= 12 else "medium" if score >= 5 else "low"), score


def test_every_combination_of_answers_follows_the_documented_rule() -> None:
    keys = [q["key"] for q in V1_QUESTIONS]
    combinations = itertools.product(*[list(CHOICES[key]) for key in keys])
    seen = set()
    for combination in combinations:
        answers = dict(zip(keys, combination, strict=True))
        tier, score, rationale = _tier(answers)
        assert (tier, score) == _expected(answers), answers
        assert rationale.startswith(tier.capitalize())
        seen.add(tier)
    assert seen == {"high", "medium", "low"}


def test_an_escalating_answer_makes_any_project_high_and_says_why() -> None:
    answers = {key: next(iter(CHOICES[key])) for key in CHOICES}  # lowest everywhere
    assert _tier(answers)[0] == "low"
    answers["impact_on_people"] = "legal_effect"
    tier, _score, rationale = _tier(answers)
    assert tier == "high"
    assert "Impact on people" in rationale


def test_thresholds_are_inclusive() -> None:
    medium = {
        "impact_on_people": "direct",  # 4
        "automation": "human_decides",
        "regulatory_scope": "none",
        "data_sensitivity": "internal",  # 1 -> 5
        "scale": "small",
        "reversibility": "easy",
    }
    assert _tier(medium)[:2] == ("medium", 5)
    medium["data_sensitivity"] = "public"
    assert _tier(medium)[:2] == ("low", 4)


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({}, "impact_on_people"),
        ({"impact_on_people": "maybe"}, "impact_on_people"),
        ({"impact_on_people": ["none"]}, "impact_on_people"),
        ({"surprise": "x"}, "surprise"),
    ],
)
def test_missing_unknown_and_malformed_answers_are_named(answers: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_answers(V1_QUESTIONS, answers)
    assert problem in caught.value.message_dict


def test_answers_must_be_an_object() -> None:
    with pytest.raises(ValidationError, match="object"):
        validate_answers(V1_QUESTIONS, ["none"])
