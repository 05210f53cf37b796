from __future__ import annotations

import pytest

from apps.projects import services as projects
from apps.registry import services as registry
from apps.workflows import services
from tests.conftest import Org
from tests.factories import TeamFunction, make_user
from tests.projects.test_permission_matrix import ANSWERS

FULL_CARD = dict.fromkeys(
    (
        "intended_use",
        "out_of_scope_use",
        "training_data",
        "evaluation",
        "limitations",
        "ethical_considerations",
        "monitoring_plan",
        "human_oversight",
    ),
    "Written in full for the reviewers, with enough words.",
)


class Flow(Org):
    """``Org`` with a complete card, a second validator, and helpers to submit and decide."""

    def __init__(self, tier: str = "low") -> None:
        super().__init__()
        self.validator2 = make_user("val2", TeamFunction.RISK_VALIDATION)
        projects.membership_add(actor=self.owner, project=self.project, user=self.validator2, role="validator")
        answers = dict(ANSWERS) if tier == "low" else dict(ANSWERS, impact_on_people="legal_effect")
        projects.qualification_submit(actor=self.owner, project=self.project, answers=answers)
        self.project.refresh_from_db()
        registry.card_update(actor=self.developer, card=self.version.card, sections=FULL_CARD)

    def submit(self):
        return services.version_submit(actor=self.developer, version=self.version)

    def decide(self, who, review, kind: str = "approve", comment: str = "Looked at it."):
        self.version.refresh_from_db()
        return services.review_decide(
            actor=who,
            review=review,
            kind=kind,
            comment=comment,
            evidence_digest_seen=services.evidence_digest(self.version),
        )


@pytest.fixture
def flow(db: None) -> Flow:
    return Flow("low")


@pytest.fixture
def high_flow(db: None) -> Flow:
    return Flow("high")
