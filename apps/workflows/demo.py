"""Demo reviews in several states (seed_demo), made through the services like everything else."""

from __future__ import annotations

from datetime import timedelta

from apps.accounts.models import User
from apps.registry import services as registry
from apps.registry.models import ModelVersion
from apps.workflows import services
from apps.workflows.models import Review

WRITTEN = "Written for the demo: enough words for the section to count as complete."


def _user(name: str) -> User:
    return User.objects.get(username=name)


def _decide(who: str, review: Review, kind: str = "approve", comment: str = "") -> None:
    version = ModelVersion.objects.get(pk=review.version_id)
    services.review_decide(
        actor=_user(who),
        review=review,
        kind=kind,
        comment=comment,
        evidence_digest_seen=services.evidence_digest(version),
    )


def seed() -> int:
    """Create reviews once: approved and deployed, waiting, changes requested, rejected, re-certification."""
    if Review.objects.exists():
        return 0
    developer = _user("developer")
    footfall = ModelVersion.objects.filter(model__name="footfall-forecast").order_by("number")
    first, second = footfall[0], footfall[1]
    approved = services.version_submit(actor=developer, version=first)
    _decide("validator", approved)
    services.deployment_record(actor=_user("itops"), version=first, environment="production")
    services.version_submit(actor=developer, version=second)  # waits for the validator

    claims = ModelVersion.objects.get(model__name="claims-router", number=1)
    registry.card_update(actor=developer, card=claims.card, sections={"monitoring_plan": WRITTEN})
    changes = services.version_submit(actor=developer, version=claims)
    _decide("business", changes, "request_changes", "Say how handlers can override a routing.")

    rejected_version = registry.version_create(actor=developer, model=first.model, framework="Prophet 1.1")
    registry.card_update(
        actor=developer,
        card=rejected_version.card,
        sections={"intended_use": WRITTEN, "evaluation": WRITTEN, "limitations": WRITTEN},
    )
    rejected = services.version_submit(actor=developer, version=rejected_version)
    _decide("validator", rejected, "reject", "Worse than v2 on every branch; keep v2.")

    credit = ModelVersion.objects.get(model__name="credit-default-pd", number=1)
    services.version_submit(actor=developer, version=credit)  # waits for the business owner

    # A re-certification, as the hourly schedule opens it when the approval of footfall v1 comes due.
    # The demo runs the schedule as of five days before that date rather than waiting two years.
    approval = Review.objects.get(pk=approved.pk)
    assert approval.expires_at is not None
    services.workflow_reminders(now=approval.expires_at - timedelta(days=5))
    return Review.objects.count()
