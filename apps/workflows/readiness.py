"""Whether a version's evidence is ready for review: a complete model card, and a passing validation
run where the tier's policy asks for one. Reads only; the lifecycle table's submit and renew moves
check it, so the version page offers submitting exactly when the service accepts it."""

from __future__ import annotations

import copy

from django.db.models import Q

from apps.projects.choices import tier_in_force
from apps.registry.cards import card_completeness
from apps.registry.models import ModelVersion
from apps.validation.choices import RunStatus
from apps.validation.models import ValidationRun
from apps.workflows.models import ApprovalPolicy
from apps.workflows.policies import DEFAULT_POLICIES


def policy_in_force(tier: str) -> ApprovalPolicy:
    """The policy in force for a tier (an unqualified project follows the high tier). Reads only.

    An emptied database that lost the defaults gets an unsaved copy of them here; the first review
    that needs the row creates it (``policy_saved``), so a GET never writes.
    """
    tier = tier_in_force(tier)
    policy = ApprovalPolicy.objects.filter(tier=tier, is_current=True).first()
    return policy or ApprovalPolicy(tier=tier, version=1, is_current=True, **copy.deepcopy(DEFAULT_POLICIES[tier]))


def card_refusal(version: ModelVersion) -> str | None:
    """Why the version's model card is not complete enough for its project's tier, or None."""
    done = card_completeness(version.card, version.model.project.risk_tier)
    if done.complete:
        return None
    return f"Complete the model card first; still to write: {', '.join(done.missing_titles)}."


def validation_refusal(version: ModelVersion) -> str | None:
    """Where the tier's policy says so, why the latest finished validation run does not pass, or None."""
    if not policy_in_force(version.model.project.risk_tier).requires_validation:
        return None
    # Only a run of the standard suite or of a suite stored for the project counts: an ad-hoc suite of
    # one trivial check would otherwise satisfy the policy.
    counted = ValidationRun.objects.filter(version=version, status__in=(RunStatus.SUCCEEDED, RunStatus.FAILED)).filter(
        Q(suite__isnull=False) | Q(spec__checks="standard")
    )
    latest = counted.order_by("-finished_at", "-pk").first()
    if latest is None or latest.status != RunStatus.SUCCEEDED or latest.outcome not in ("pass", "warn"):
        return (
            "This tier's policy needs a passing validation run of this version, with the standard "
            "suite or a suite stored for the project, before it is submitted."
        )
    return None
