"""Approval policies: the one in force for a tier, and publishing a new version."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.choices import TeamFunction
from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between
from apps.core.permissions import require
from apps.projects.choices import ProjectRole, RiskTier
from apps.workflows.models import ApprovalPolicy
from apps.workflows.permissions import can_edit_policies
from apps.workflows.policies import DEFAULT_POLICIES
from apps.workflows.readiness import policy_in_force


def policy_saved(tier: str) -> ApprovalPolicy:
    """The policy in force as a row, created (and audited) from the defaults if it is missing."""
    policy = policy_in_force(tier)
    if policy.pk is None:
        with transaction.atomic():
            policy, created = ApprovalPolicy.objects.get_or_create(
                tier=policy.tier, version=1, defaults={**DEFAULT_POLICIES[policy.tier], "is_current": True}
            )
            if created:
                audit_record(actor=None, action=Action.POLICY_CREATED, target=policy, data={"tier": policy.tier})
    return policy


STAGE_KEYS = {"key", "name", "project_roles", "team", "independent", "quorum", "parallel"}


def _validate_stages(stages: object) -> list[dict[str, Any]]:
    if not isinstance(stages, list) or not stages:
        raise ValidationError({"stages": "Give at least one stage, as a list."})
    clean, keys = [], set()
    for position, stage in enumerate(stages, start=1):
        where = f"Stage {position}"
        if not isinstance(stage, dict) or set(stage) - STAGE_KEYS:
            raise ValidationError({"stages": f"{where}: use only the fields {', '.join(sorted(STAGE_KEYS))}."})
        key, roles, quorum = stage.get("key"), stage.get("project_roles"), stage.get("quorum")
        if not isinstance(key, str) or not key.isidentifier() or key in keys:
            raise ValidationError({"stages": f"{where}: give a unique key of letters, digits and underscores."})
        if not isinstance(roles, list) or not roles or any(r not in ProjectRole.values for r in roles):
            raise ValidationError({"stages": f"{where}: project_roles must list project roles."})
        if isinstance(quorum, bool) or not isinstance(quorum, int) or not 1 <= quorum <= 10:
            raise ValidationError({"stages": f"{where}: the quorum is a whole number from 1 to 10."})
        if not isinstance(stage.get("name", ""), str) or "\x00" in str(stage.get("name", "")):
            raise ValidationError({"stages": f"{where}: the name is plain text."})
        if any(not isinstance(stage.get(flag, False), bool) for flag in ("independent", "parallel")):
            raise ValidationError({"stages": f"{where}: independent and parallel are true or false."})
        team = stage.get("team")
        if team is not None and team not in TeamFunction.values:
            raise ValidationError({"stages": f"{where}: unknown team function {str(team)[:40]!r}."})
        if position == 1 and stage.get("parallel"):
            raise ValidationError({"stages": "The first stage cannot run in parallel with a stage before it."})
        keys.add(key)
        clean.append({**stage, "name": str(stage.get("name") or key)[:100]})
    return clean


ENVIRONMENT_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?")
MAX_ENVIRONMENTS = 20


def _validate_environments(environments: object) -> list[str]:
    """The environment slugs an approval covers, in the order given; [] for any environment."""
    if not isinstance(environments, list):
        raise ValidationError({"environments": "Give the environments as a list of slugs, such as staging."})
    if len(environments) > MAX_ENVIRONMENTS:
        raise ValidationError({"environments": f"Name at most {MAX_ENVIRONMENTS} environments."})
    clean: list[str] = []
    for name in environments:
        if not isinstance(name, str) or not ENVIRONMENT_SLUG.fullmatch(name):
            shown = str(name)[:40] if isinstance(name, str | int | float) else type(name).__name__
            raise ValidationError(
                {
                    "environments": f"{shown!r} is not an environment slug: use up to 40 lowercase letters, "
                    "digits, hyphens and underscores, starting and ending with a letter or digit."
                }
            )
        if name in clean:
            raise ValidationError({"environments": f"{name!r} is named twice; name each environment once."})
        clean.append(name)
    return clean


def policy_publish(
    *,
    actor: User,
    tier: str,
    stages: object,  # as given (a form or a JSON body); validated here
    review_period_days: int,
    grace_days: int | None = None,
    requires_validation: bool | None = None,
    environments: object = None,  # a list of slugs as given; None keeps the previous version's
    base_version: int | None = None,
) -> ApprovalPolicy:
    """Publish a new version of a tier's policy (administrators and compliance; audited).

    Reviews already open keep the stages (and the environments) they opened with. An empty
    ``environments`` list lets an approval cover any environment. Side effects: the previous version stops
    being current; ``workflows.policy.published`` with before/after stages.
    """
    require(can_edit_policies(actor), "Only administrators and compliance change approval policies.")
    if tier not in RiskTier.values:
        raise ValidationError({"tier": f"Choose {', '.join(RiskTier.values[:-1])} or {RiskTier.values[-1]}."})
    if not isinstance(review_period_days, int) or not 30 <= review_period_days <= 3650:
        raise ValidationError({"review_period_days": "Approvals last between 30 and 3,650 days."})
    if grace_days is not None and (
        isinstance(grace_days, bool) or not isinstance(grace_days, int) or not 0 <= grace_days <= 90
    ):
        raise ValidationError({"grace_days": "The grace period is a whole number of days from 0 to 90."})
    clean = _validate_stages(stages)
    places = None if environments is None else _validate_environments(environments)
    with transaction.atomic():
        policy_saved(tier)  # creates the defaults if an emptied database lost them
        # One publisher at a time: lock the tier's current row, then read it again under the lock.
        previous = (
            ApprovalPolicy.objects.select_for_update(no_key=True)
            .filter(tier=tier, is_current=True)
            .order_by("-version")[0]
        )
        if base_version is not None and base_version != previous.version:
            raise ValidationError(
                {"stages": f"Someone published version {previous.version} meanwhile; reload the page and edit that."}
            )
        grace = previous.grace_days if grace_days is None else grace_days
        needs_run = previous.requires_validation if requires_validation is None else requires_validation
        if not isinstance(needs_run, bool):
            raise ValidationError({"requires_validation": "Say true or false."})
        where = list(previous.environments or []) if places is None else places
        ApprovalPolicy.objects.filter(pk=previous.pk).update(is_current=False)
        policy = ApprovalPolicy.objects.create(
            tier=tier,
            version=previous.version + 1,
            stages=clean,
            review_period_days=review_period_days,
            grace_days=grace,
            requires_validation=needs_run,
            environments=where,
            is_current=True,
        )
        audit_record(
            actor=actor,
            action=Action.POLICY_PUBLISHED,
            target=policy,
            changes=changes_between(
                {
                    "stages": previous.stages,
                    "review_period_days": previous.review_period_days,
                    "grace_days": previous.grace_days,
                    "requires_validation": previous.requires_validation,
                    "environments": list(previous.environments or []),
                },
                {
                    "stages": clean,
                    "review_period_days": review_period_days,
                    "grace_days": grace,
                    "requires_validation": needs_run,
                    "environments": where,
                },
            ),
            data={"tier": tier, "version": policy.version},
        )
    return policy
