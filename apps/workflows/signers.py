"""Gather what the sign-off rules need to know of one person and many reviews, in a fixed number of queries.

The rules themselves are pure (``apps.workflows.stages``); this module only reads. Asking for one
review or for fifty costs the same handful of queries, so an inbox does not grow with its reviews.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from apps.accounts.models import User
from apps.accounts.permissions import awaits_own_password, is_administrator, team_functions
from apps.projects import permissions as can
from apps.projects.models import Membership, Project
from apps.projects.selectors import project_people
from apps.registry.models import ModelCardRevision
from apps.validation.models import ValidationRun
from apps.workflows.evidence import evidence_digests
from apps.workflows.models import Decision, Delegation, Review
from apps.workflows.stages import SignOffFacts, sign_off_refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def _related(reviews: Sequence[Review], name: str, model: type[Decision] | type[Delegation]) -> dict[int, list[Any]]:
    """The ``name`` rows of each review: from its prefetch when every review has one, else one query.

    The reviews' own caches are left alone: a service that adds a decision reads the new state next time.
    """
    if all(name in getattr(review, "_prefetched_objects_cache", {}) for review in reviews):
        return {review.pk: list(getattr(review, name).all()) for review in reviews}
    rows: dict[int, list[Any]] = defaultdict(list)
    for row in model.objects.filter(review__in=[review.pk for review in reviews]):
        rows[row.review_id].append(row)
    return rows


def judge_reason(
    user: User, project: Project, held: frozenset[str], reasons_of: Callable[[str], str | None] | None = None
) -> str | None:
    """None if ``user`` may exercise one of the judging roles ``held``; else the first reason (lower-case start).

    ``reasons_of(role)`` answers as ``judge_refusal`` from facts already read, when the caller has them.
    """
    refusal = reasons_of or functools.partial(can.judge_refusal, user, project)
    reasons = [refusal(role) for role in sorted(held)]
    if any(reason is None for reason in reasons):
        return None
    reason = next((r for r in reasons if r), "you may not judge this project.")
    return reason[0].lower() + reason[1:]


def _after(moments: list[datetime], start: datetime | None) -> bool:
    return any(start is None or moment > start for moment in moments)


def _signed_out(review: Review, decisions: list[Any], digests: dict[int, str]) -> SignOffFacts:
    """Facts for someone not signed in: the first rule refuses them, the others are never asked."""
    return SignOffFacts(
        user_id=0,
        signed_in=False,
        administrator=False,
        service_account=False,
        awaits_own_password=False,
        admin_changed_at=None,
        teams=frozenset(),
        roles=frozenset(),
        stages=review.stages,
        decisions=decisions,
        digest=digests[review.version_id],
        opened_at=review.opened_at,
        cycle_start=None,
        created_version=False,
        submitted_version=False,
        edited_card_this_cycle=False,
        provided_evaluation_data_this_cycle=False,
        delegated=False,
        ever_built=lambda: False,
        judge_reason=lambda held: None,
    )


def sign_off_facts(
    user: User | AnonymousUser, reviews: Sequence[Review], digests: dict[int, str] | None = None
) -> dict[int, SignOffFacts]:
    """What the sign-off rules need of ``user`` for each of ``reviews`` (by review id).

    ``reviews`` come with ``version__model__project``; prefetched ``decisions`` and ``delegations`` are
    used when present. ``digests`` (evidence digests by version id) are computed when not given.
    """
    if not reviews:
        return {}
    versions = {review.version_id: review.version for review in reviews}
    digests = digests if digests is not None else evidence_digests(versions.values())
    decisions = _related(reviews, "decisions", Decision)
    if not (isinstance(user, User) and user.is_authenticated and user.is_active):
        return {review.pk: _signed_out(review, decisions[review.pk], digests) for review in reviews}
    delegations = _related(reviews, "delegations", Delegation)
    projects = {review.version.model.project_id: review.version.model.project for review in reviews}
    roles: dict[int, set[str]] = defaultdict(set)
    for project_id, role in Membership.objects.filter(user=user, project_id__in=projects).values_list(
        "project_id", "role"
    ):
        roles[project_id].add(role)
    teams = team_functions(user)
    cycles: dict[int, list[tuple[int, datetime | None, int | None]]] = defaultdict(list)
    for version_id, cycle, closed_at, submitted_by in Review.objects.filter(version_id__in=versions).values_list(
        "version_id", "cycle", "closed_at", "submitted_by_id"
    ):
        cycles[version_id].append((cycle, closed_at, submitted_by))
    card_edits: dict[int, list[datetime]] = defaultdict(list)
    for version_id, created_at in ModelCardRevision.objects.filter(
        card__version_id__in=versions, author=user
    ).values_list("card__version_id", "created_at"):
        card_edits[version_id].append(created_at)
    uploads: dict[int, list[datetime]] = defaultdict(list)
    runs = ValidationRun.objects.filter(version_id__in=versions).filter(
        Q(reference__created_by=user) | Q(current__created_by=user)
    )
    for version_id, ref_by, ref_at, cur_by, cur_at in runs.values_list(
        "version_id",
        "reference__created_by_id",
        "reference__created_at",
        "current__created_by_id",
        "current__created_at",
    ):
        uploads[version_id] += [at for by, at in ((ref_by, ref_at), (cur_by, cur_at)) if by == user.pk]
    # Who built which of the projects is read once for all of them, and only if a rule asks (three queries).
    built_in = functools.cache(lambda: can.ever_built_in(user, list(projects)))
    ever_built = {pk: functools.partial(lambda pk: pk in built_in(), pk) for pk in projects}

    def reasons_of(pk: int) -> Callable[[str], str | None]:
        return lambda role: can.judge_refusal_from(user, role, teams=teams, built=ever_built[pk])

    judge = {
        pk: functools.cache(functools.partial(judge_reason, user, project, reasons_of=reasons_of(pk)))
        for pk, project in projects.items()
    }
    administrator, awaits = is_administrator(user), awaits_own_password(user)
    facts = {}
    for review in reviews:
        project_id = review.version.model.project_id
        earlier = [row for row in cycles[review.version_id] if row[0] < review.cycle]
        start = max(earlier)[1] if earlier else None
        facts[review.pk] = SignOffFacts(
            user_id=user.pk,
            signed_in=True,
            administrator=administrator,
            service_account=user.is_service_account,
            awaits_own_password=awaits,
            admin_changed_at=user.admin_changed_at,
            teams=teams,
            roles=frozenset(roles[project_id]),
            stages=review.stages,
            decisions=decisions[review.pk],
            digest=digests[review.version_id],
            opened_at=review.opened_at,
            cycle_start=start,
            created_version=user.pk == review.version.created_by_id,
            submitted_version=any(row[2] == user.pk for row in cycles[review.version_id]),
            edited_card_this_cycle=_after(card_edits[review.version_id], start),
            provided_evaluation_data_this_cycle=_after(uploads[review.version_id], start),
            delegated=any(d.from_user_id == user.pk for d in delegations[review.pk]),
            ever_built=ever_built[project_id],
            judge_reason=judge[project_id],
        )
    return facts


def facts_for(user: User | AnonymousUser, review: Review, digest: str | None = None) -> SignOffFacts:
    """What the sign-off rules need of ``user`` for ``review`` (``digest``: its evidence, when known)."""
    return sign_off_facts(user, [review], None if digest is None else {review.version_id: digest})[review.pk]


def eligible_signers(review: Review, stage: dict[str, Any], digest: str) -> list[User]:
    """The project's people who may sign ``stage`` of ``review`` now (``digest``: the version's evidence)."""
    candidates = project_people(review.version.model.project, *(stage.get("project_roles") or []))
    return [person for person in candidates if sign_off_refusal(facts_for(person, review, digest), stage) is None]
