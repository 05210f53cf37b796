"""The deployment gate: may a version be deployed now? A read; it never writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from apps.registry.choices import VersionStatus
from apps.registry.models import ModelVersion
from apps.workflows.choices import BLOCKING_SEVERITIES, FindingStatus, ReviewStatus
from apps.workflows.evidence import evidence_digest
from apps.workflows.models import Finding, Review


def approval_current(version: ModelVersion) -> bool:
    """Whether the latest approval still covers this version: same evidence, not expired."""
    review = Review.objects.filter(version=version, status=ReviewStatus.APPROVED).order_by("-cycle").first()
    if review is None:
        return False
    expired = review.expires_at is not None and review.expires_at <= timezone.now()
    return review.approved_digest == evidence_digest(version) and not expired


def blocking_findings(version: ModelVersion) -> bool:
    """High or critical findings on the version, or on its model as a whole, that nobody independent
    has closed or accepted yet (a remediation by its owner still waits for a validator's check)."""
    return (
        Finding.objects.filter(Q(version=version) | Q(version=None, model_id=version.model_id))
        .filter(status__in=(FindingStatus.OPEN, FindingStatus.REMEDIATED), severity__in=BLOCKING_SEVERITIES)
        .exists()
    )


# Why an app built on workflows refuses a version (monitoring: a gate-blocking monitor breaches). Each
# source takes the version and its label and returns its reasons; it is registered in the app's
# ``AppConfig.ready``, so the gate asks it without importing the app (an import would close a cycle).
RefusalSource = Callable[[ModelVersion, str], list[str]]
_refusal_sources: list[RefusalSource] = []


def contribute_refusals(source: RefusalSource) -> None:
    """Register ``source`` of gate refusals; registering the same source twice keeps one."""
    if source not in _refusal_sources:
        _refusal_sources.append(source)


@dataclass(frozen=True)
class GateAnswer:
    allowed: bool
    reasons: list[str]


def environments_phrase(environments: list[str]) -> str:
    """``["staging", "production"]`` as "staging, production"."""
    return ", ".join(environments)


def environment_refusal(review: Review, label: str, environment: str | None) -> str | None:
    """Why the approval ``review`` does not cover ``environment`` (its policy's list when it opened), or None.

    An empty list covers any environment; no environment named (the version page) is not refused here.
    """
    covered = list(review.environments or [])
    if not covered or environment is None or environment in covered:
        return None
    return f"{label} is approved for {environments_phrase(covered)} only; not for {environment[:40]}."


def digest_refusal(version: ModelVersion, label: str, artifact_sha256: str | None) -> str | None:
    """Why the artifact with ``artifact_sha256`` is not the one approved for ``version``, or None (none given)."""
    if artifact_sha256 is None:
        return None
    if not version.artifact_sha256:
        return f"{label} has no registered artifact SHA-256 to compare; register it on the version before deploying."
    if artifact_sha256 != version.artifact_sha256:
        return f"The artifact's SHA-256 is not the approved one: {label} was approved with {version.artifact_sha256}."
    return None


def gate_check(
    *, version: ModelVersion, environment: str | None = None, artifact_sha256: str | None = None
) -> GateAnswer:
    """May ``version`` be deployed to ``environment``, and is ``artifact_sha256`` its approved artifact?

    Reasons in words a pipeline log can show. ``environment`` None (the version page) checks no
    environment; ``artifact_sha256`` None compares no digest (a caller that has one passes it,
    lowercase hex: the registry stores it so).
    """
    version = ModelVersion.objects.select_related("model").get(pk=version.pk)  # the state now, not a stale copy
    label = f"{version.model.name} v{version.number}"
    if version.status not in (VersionStatus.APPROVED, VersionStatus.DEPLOYED):
        return GateAnswer(False, [f"{label} is {version.get_status_display().lower()}, not approved."])
    review = Review.objects.filter(version=version, status=ReviewStatus.APPROVED).order_by("-cycle").first()
    if review is None:  # pragma: no cover - approved versions have an approved review
        return GateAnswer(False, [f"{label} has no approved review."])
    reasons, notes = [], []
    if review.approved_digest != evidence_digest(version):
        reasons.append(f"The approval of {label} is stale: its evidence changed after approval; it needs a new review.")
    now = timezone.now()
    if review.expires_at and review.expires_at <= now:
        grace_end = review.expires_at + timedelta(days=review.grace_days)
        if grace_end <= now:
            reasons.append(
                f"The approval of {label} expired on {review.expires_at:%Y-%m-%d}; it needs re-certification."
            )
        else:
            notes.append(
                f"The approval expired on {review.expires_at:%Y-%m-%d}; the policy's grace period allows deployment "
                f"until {grace_end:%Y-%m-%d %H:%M} UTC while re-certification runs."
            )
    if blocking_findings(version):
        reasons.append(f"{label} has open high or critical findings.")
    for source in _refusal_sources:
        reasons += source(version, label)
    reasons += [
        refusal
        for refusal in (
            environment_refusal(review, label, environment),
            digest_refusal(version, label, artifact_sha256),
        )
        if refusal is not None
    ]
    if reasons:
        return GateAnswer(False, reasons)
    if environment is None:
        covered = list(review.environments or [])
        where = f"to {environments_phrase(covered)}" if covered else "to any environment"
        return GateAnswer(True, [f"{label} is approved (review {review.cycle}) for deployment {where}.", *notes])
    return GateAnswer(True, [f"{label} is approved (review {review.cycle}) for deployment to {environment}.", *notes])
