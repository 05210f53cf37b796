"""Which stages of a review are open, who may sign them, whether a quorum is met: pure functions.

Nothing here queries the database. The callers gather what the rules need once — a review's
stages, decisions and delegations, the evidence digest, and what is known of the person
(``SignOffFacts``, gathered by ``apps.workflows.signers``) — and these functions decide over it, so
that a page listing many reviews asks the same few queries however many there are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from apps.projects.choices import JUDGE_TEAMS, ProjectRole
from apps.workflows.choices import DecisionKind

Stage = dict[str, Any]


class DecisionLike(Protocol):
    """What the stage rules read of a decision (a ``Decision`` row has it)."""

    stage: str
    kind: str
    evidence_digest: str
    decider_id: int


@dataclass
class StageState:
    key: str
    name: str
    quorum: int
    approvals: list[Any] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return len(self.approvals) >= self.quorum


def stage_states(stages: Sequence[Stage], decisions: Iterable[DecisionLike], digest: str) -> list[StageState]:
    """Each stage with the approvals that count: distinct people, on the current evidence."""
    states = [StageState(s["key"], s["name"], int(s["quorum"])) for s in stages]
    by_key = {state.key: state for state in states}
    for decision in decisions:
        if decision.kind == DecisionKind.APPROVE and decision.evidence_digest == digest and decision.stage in by_key:
            by_key[decision.stage].approvals.append(decision)
    return states


def open_stages(stages: Sequence[Stage], decisions: Iterable[DecisionLike], digest: str) -> list[Stage]:
    """The stages that may be signed now: the first not yet passed, with any later stages marked
    ``parallel`` that directly follow it (a parallel stage runs alongside the one before it)."""
    states = stage_states(stages, decisions, digest)
    pending = [stage for stage, state in zip(stages, states, strict=True) if not state.passed]
    if not pending:
        return []
    first = list(stages).index(pending[0])
    open_now = [pending[0]]
    for stage in stages[first + 1 :]:
        if not stage.get("parallel"):
            break
        if stage in pending:
            open_now.append(stage)
    return open_now


def active_stage(stages: Sequence[Stage], decisions: Iterable[DecisionLike], digest: str) -> Stage | None:
    """The first stage not yet passed (stages are signed in order unless marked parallel)."""
    now = open_stages(stages, decisions, digest)
    return now[0] if now else None


@dataclass(frozen=True)
class SignOffFacts:
    """What the sign-off rules know of one person and one review (DESIGN.md section 4).

    ``ever_built`` and ``judge_reason`` are asked only when a rule needs them; the gatherer
    remembers their answers per project.
    """

    user_id: int
    signed_in: bool
    administrator: bool
    service_account: bool
    awaits_own_password: bool
    admin_changed_at: datetime | None
    teams: frozenset[str]
    roles: frozenset[str]
    stages: Sequence[Stage]
    decisions: Sequence[DecisionLike]
    digest: str
    opened_at: datetime
    cycle_start: datetime | None
    created_version: bool
    submitted_version: bool
    edited_card_this_cycle: bool
    provided_evaluation_data_this_cycle: bool
    delegated: bool
    ever_built: Callable[[], bool]
    judge_reason: Callable[[frozenset[str]], str | None]


def _role_names(roles: Iterable[str]) -> str:
    return " or ".join(sorted(r.replace("_", " ") + "s" for r in roles))


SERVICE_ACCOUNT_REFUSAL = "A service account reports what a pipeline does; it never signs off: a person does."


def sign_off_refusal(facts: SignOffFacts, stage: Stage) -> str | None:
    """Return why the person may not sign ``stage`` (a sentence for them), or None.

    The rules run in order and stop at the first that applies; each is a rule of DESIGN.md section 4.
    """
    if not facts.signed_in:
        return "Sign in first."
    allowed_roles, team = frozenset(stage.get("project_roles") or []), stage.get("team")
    independent = bool(stage.get("independent"))
    judging = allowed_roles & set(JUDGE_TEAMS)
    rules: list[tuple[Callable[[], bool], str | Callable[[], str]]] = [
        (lambda: facts.administrator, "Administrators manage Signet; they do not sign off models."),
        (lambda: facts.service_account, SERVICE_ACCOUNT_REFUSAL),
        (
            lambda: facts.awaits_own_password,
            "An administrator set up or changed your account; sign in and set your own password on your "
            "settings page before you sign off.",
        ),
        (
            lambda: facts.admin_changed_at is not None
            and facts.admin_changed_at > (facts.cycle_start or facts.opened_at),
            "An administrator changed your account, password or teams during this review cycle; "
            "another person signs this one.",
        ),
        (lambda: facts.created_version, "You created this version."),
        (lambda: facts.submitted_version, "You submitted this version for review."),
        (lambda: facts.edited_card_this_cycle, "You changed this version's model card in this review cycle."),
        (
            lambda: facts.provided_evaluation_data_this_cycle,
            "You provided the evaluation data of this version in this review cycle.",
        ),
        (
            lambda: bool(allowed_roles) and not allowed_roles & facts.roles,
            "This stage is signed by the project's " + _role_names(allowed_roles) + ".",
        ),
        (
            lambda: bool(team) and team not in facts.teams,
            f"This stage is signed by members of the {str(team).replace('_', ' ')} team.",
        ),
        (
            lambda: independent and bool(facts.roles & {ProjectRole.DEVELOPER, ProjectRole.OWNER}),
            "Independent validation cannot be signed by the project's developers or owners.",
        ),
        (
            lambda: independent and facts.ever_built(),
            "Independent validation cannot be signed by someone who developed or owned this project.",
        ),
        (
            lambda: bool(allowed_roles)
            and allowed_roles == judging
            and facts.judge_reason(allowed_roles & facts.roles) is not None,
            lambda: "You hold this stage's role, but " + str(facts.judge_reason(allowed_roles & facts.roles)),
        ),
        (
            lambda: any(d.decider_id == facts.user_id and d.evidence_digest == facts.digest for d in facts.decisions),
            "You have already decided on this review; one person fills one place.",
        ),
        (lambda: facts.delegated, "You delegated your decision on this review to someone else."),
    ]
    message = next((message for applies, message in rules if applies()), None)
    return message() if callable(message) else message


def stage_for(facts: SignOffFacts) -> tuple[Stage | None, str | None]:
    """The open stage the person may sign, or the reason why none (from the first open stage)."""
    now = open_stages(facts.stages, facts.decisions, facts.digest)
    if not now:
        return None, "Every stage is already signed."
    refusals = [sign_off_refusal(facts, stage) for stage in now]
    for stage, refusal in zip(now, refusals, strict=True):
        if refusal is None:
            return stage, None
    return None, refusals[0]
