"""Which stages of a review are open, who may sign them, whether a quorum is met."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.accounts.models import User
from apps.projects.selectors import project_people
from apps.workflows.choices import DecisionKind
from apps.workflows.models import Decision, Review
from apps.workflows.permissions import sign_off_refusal


@dataclass
class StageState:
    key: str
    name: str
    quorum: int
    approvals: list[Decision] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return len(self.approvals) >= self.quorum


def stage_states(review: Review, digest: str) -> list[StageState]:
    """Each stage with the approvals that count: distinct people, on the current evidence."""
    states = [StageState(s["key"], s["name"], int(s["quorum"])) for s in review.stages]
    by_key = {state.key: state for state in states}
    for decision in review.decisions.all():
        if decision.kind == DecisionKind.APPROVE and decision.evidence_digest == digest and decision.stage in by_key:
            by_key[decision.stage].approvals.append(decision)
    return states


def open_stages(review: Review, digest: str) -> list[dict[str, Any]]:
    """The stages that may be signed now: the first not yet passed, with any later stages marked
    ``parallel`` that directly follow it (a parallel stage runs alongside the one before it)."""
    pending = [
        stage for stage, state in zip(review.stages, stage_states(review, digest), strict=True) if not state.passed
    ]
    if not pending:
        return []
    first = review.stages.index(pending[0])
    open_now = [pending[0]]
    for stage in review.stages[first + 1 :]:
        if not stage.get("parallel"):
            break
        if stage in pending:
            open_now.append(stage)
    return open_now


def active_stage(review: Review, digest: str) -> dict[str, Any] | None:
    """The first stage not yet passed (stages are signed in order unless marked parallel)."""
    stages = open_stages(review, digest)
    return stages[0] if stages else None


def stage_for(user: Any, review: Review, digest: str) -> tuple[dict[str, Any] | None, str | None]:
    """The open stage ``user`` may sign, or the reason why none (from the first open stage)."""
    stages = open_stages(review, digest)
    if not stages:
        return None, "Every stage is already signed."
    refusals = [sign_off_refusal(user, review, stage, digest) for stage in stages]
    for stage, refusal in zip(stages, refusals, strict=True):
        if refusal is None:
            return stage, None
    return None, refusals[0]


def eligible_signers(review: Review, stage: dict[str, Any], digest: str) -> list[User]:
    """The project's people who may sign ``stage`` of ``review`` now (``digest``: the version's evidence)."""
    candidates = project_people(review.version.model.project, *(stage.get("project_roles") or []))
    return [person for person in candidates if sign_off_refusal(person, review, stage, digest) is None]
