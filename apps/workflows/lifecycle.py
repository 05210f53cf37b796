"""The lifecycle of a model version as one transition table: states, moves, who may make each.

    draft -> in_review -> approved -> deployed -> retired
                 |  \\-> changes_requested -> in_review (resubmitted)
                 \\-> rejected (final)

The services (submit, renew, deploy, retire), the version page and the API all read this table, so
a page offers exactly the moves the service accepts. A move names the statuses it starts from, the
status it leads to, the predicate of ``apps.workflows.permissions`` that says who may make it, and
a guard over the version's state (an open review, a current approval, the gate). The moves a
review makes when it closes (approved, rejected, changes requested) are ``REVIEW_OUTCOMES``: no
person picks them, the stage rules decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from apps.projects import permissions as can
from apps.projects.models import Project
from apps.registry.choices import VersionStatus
from apps.registry.models import ModelVersion
from apps.workflows import readiness
from apps.workflows.choices import DecisionKind, ReviewKind, ReviewStatus
from apps.workflows.gate import GateAnswer, approval_current, gate_check
from apps.workflows.models import Review
from apps.workflows.permissions import can_deploy, can_retire

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from apps.accounts.models import User

STATES = tuple(VersionStatus.values)


class VersionState:
    """What the guards read of a version, each part looked up once and only when a guard asks."""

    def __init__(
        self, version: ModelVersion, *, environment: str | None = None, artifact_sha256: str | None = None
    ) -> None:
        self.version = version
        self.status = version.status
        # Where the deploy move would deploy to, and what (the artifact's digest, when it is known);
        # None checks no environment (the version page, before anyone picked one) or no digest.
        self.environment = environment
        self.artifact_sha256 = artifact_sha256

    @cached_property
    def open_review_kind(self) -> str | None:
        """The kind of the review of this version that is open, if one is."""
        return (
            Review.objects.filter(version=self.version, status=ReviewStatus.OPEN).values_list("kind", flat=True).first()
        )

    @cached_property
    def approval_current(self) -> bool:
        return approval_current(self.version)

    @cached_property
    def gate(self) -> GateAnswer:
        return gate_check(version=self.version, environment=self.environment, artifact_sha256=self.artifact_sha256)


@dataclass(frozen=True)
class Refusal:
    """Why a move cannot be made now: the field a form shows it on and a sentence for the person."""

    field: str
    message: str | list[str]


Check = Callable[["Move", VersionState], Refusal | None]


def _from_sources(verb: str) -> Check:
    """The move starts only from its source statuses ("A version that is retired cannot be retired.")."""

    def check(move: Move, state: VersionState) -> Refusal | None:
        if state.status in move.sources:
            return None
        shown = VersionStatus(state.status).label.lower()
        return Refusal("status", f"A version that is {shown} cannot be {verb}.")

    return check


def _no_open_review(move: Move, state: VersionState) -> Refusal | None:
    if state.open_review_kind is not None:
        return Refusal("status", "A review of this version is already open; decide it first.")
    return None


def _approval_not_current(move: Move, state: VersionState) -> Refusal | None:
    """An approved or deployed version comes back for review when its approval went stale or expired."""
    if state.approval_current:
        shown = VersionStatus(state.status).label.lower()
        return Refusal("status", f"A version that is {shown} cannot be submitted.")
    return None


def _card_complete(move: Move, state: VersionState) -> Refusal | None:
    message = readiness.card_refusal(state.version)
    return None if message is None else Refusal("card", message)


def _passing_run(move: Move, state: VersionState) -> Refusal | None:
    message = readiness.validation_refusal(state.version)
    return None if message is None else Refusal("validation", message)


def _gate_allows(move: Move, state: VersionState) -> Refusal | None:
    return None if state.gate.allowed else Refusal("version", state.gate.reasons)


def _no_submission_review(move: Move, state: VersionState) -> Refusal | None:
    # A deployed version renewing its approval stays "deployed" while the submission is reviewed.
    if state.open_review_kind == ReviewKind.SUBMISSION:
        return Refusal("status", "A version under a submission review cannot be retired until it is decided.")
    return None


@dataclass(frozen=True)
class Move:
    """One move of the table; ``checks`` run in order and the first refusal is the answer."""

    name: str
    label: str
    sources: frozenset[str]
    target: str
    may: Callable[[User | AnonymousUser, Project], bool]
    denied: str
    checks: tuple[Check, ...]
    keeps: frozenset[str] = frozenset()  # sources that keep their status (a deployed version keeps serving)

    def target_from(self, status: str) -> str:
        return status if status in self.keeps else self.target


S = VersionStatus
BUILDERS_ONLY = "Only the project's owners and developers submit versions."

MOVES: dict[str, Move] = {
    move.name: move
    for move in (
        Move(
            "submit",
            "Submit for review",
            frozenset({S.DRAFT, S.CHANGES_REQUESTED}),
            S.IN_REVIEW,
            can.can_build,
            BUILDERS_ONLY,
            (_no_open_review, _from_sources("submitted"), _card_complete, _passing_run),
        ),
        Move(
            "renew",
            "Submit again to renew the approval",
            frozenset({S.APPROVED, S.DEPLOYED}),
            S.IN_REVIEW,
            can.can_build,
            BUILDERS_ONLY,
            (_no_open_review, _from_sources("submitted"), _approval_not_current, _card_complete, _passing_run),
            keeps=frozenset({S.DEPLOYED}),
        ),
        Move(
            "deploy",
            "Record deployment",
            frozenset({S.APPROVED, S.DEPLOYED}),
            S.DEPLOYED,
            can_deploy,
            "Only the project's IT operations record deployments.",
            (_gate_allows,),  # the gate refuses any status but approved and deployed, with its reasons
        ),
        Move(
            "retire",
            "Retire",
            frozenset({S.DRAFT, S.CHANGES_REQUESTED, S.APPROVED, S.DEPLOYED, S.REJECTED}),
            S.RETIRED,
            can_retire,
            "Only the project's owners and IT operations retire versions.",
            (_from_sources("retired"), _no_submission_review),
        ),
    )
}


@dataclass(frozen=True)
class Outcome:
    """What closing a review does: the review's status and its version's (``keeps``: statuses kept)."""

    review_status: str
    target: str
    keeps: frozenset[str] = frozenset()

    def target_from(self, status: str) -> str:
        return status if status in self.keeps else self.target


# A decision closes its review: one reject or request_changes at once, approvals once the last stage passes.
REVIEW_OUTCOMES: dict[str, Outcome] = {
    DecisionKind.APPROVE: Outcome(ReviewStatus.APPROVED, S.APPROVED, keeps=frozenset({S.DEPLOYED})),
    DecisionKind.REJECT: Outcome(ReviewStatus.REJECTED, S.REJECTED),
    DecisionKind.REQUEST_CHANGES: Outcome(ReviewStatus.CHANGES_REQUESTED, S.CHANGES_REQUESTED),
}


def submission_move(status: str) -> Move:
    """Submitting a version that was approved renews its approval; any other submission is a submit."""
    return MOVES["renew"] if status in MOVES["renew"].sources else MOVES["submit"]


def state_refusal(move: Move, state: VersionState) -> Refusal | None:
    """Why ``move`` cannot be made from the version's state now (whoever asks), or None."""
    return next((refusal for check in move.checks if (refusal := check(move, state)) is not None), None)


def evidence_wanting(user: User | AnonymousUser, version: ModelVersion, state: VersionState | None = None) -> list[str]:
    """What keeps ``user`` from submitting ``version`` that they can fix: the card, the validation run."""
    project = version.model.project
    state = state or VersionState(version)
    move = submission_move(state.status)
    if not move.may(user, project):
        return []
    refusal = state_refusal(move, state)
    return [str(refusal.message)] if refusal is not None and refusal.field in ("card", "validation") else []


def moves_for(user: User | AnonymousUser, version: ModelVersion, state: VersionState | None = None) -> list[str]:
    """The names of the moves ``user`` may make on ``version`` now, in the table's order."""
    project = version.model.project
    state = state or VersionState(version)
    return [move.name for move in MOVES.values() if move.may(user, project) and state_refusal(move, state) is None]
