"""Demo reviews in several states (seed_demo), made through the services like everything else."""

from __future__ import annotations

from datetime import timedelta

from apps.accounts.models import User
from apps.registry import services as registry
from apps.registry.choices import CARD_SECTION_NAMES, VersionStatus
from apps.registry.models import ModelVersion, RegisteredModel
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
    """Create the demo reviews once, and put a second project's model in production (each step once)."""
    created = 0 if Review.objects.exists() else _reviews()
    return created + _claims_in_production()


def _claims_in_production() -> int:
    """Claims triage v2 answers the changes asked of v1, passes its review and goes to production (once).

    Monitoring watches a deployed version of two projects (apps/monitoring/demo.py); v1 stays where
    the business owner sent it back, so the demo keeps a version with changes requested.
    """
    model = RegisteredModel.objects.filter(name="claims-router").first()
    if model is None or model.versions.filter(status=VersionStatus.DEPLOYED).exists():
        return 0
    developer, business = _user("developer"), _user("business")
    version = registry.version_create(
        actor=developer, model=model, framework="scikit-learn 1.7", metrics={"macro_f1": 0.77},
        description="Handlers can override a routing; the override reasons feed the next training.",
    )  # fmt: skip
    sections = dict.fromkeys(CARD_SECTION_NAMES, WRITTEN)
    sections["human_oversight"] = "A handler overrides any routing in one click; team leads review overrides weekly."
    registry.card_update(actor=developer, card=version.card, sections=sections)
    review = services.version_submit(actor=developer, version=version)
    _decide(business.username, review, comment="The override answers what I asked of v1.")
    _decide("validator", review)
    _decide("itops", review)
    services.deployment_record(actor=_user("itops"), version=version, environment="production")
    return 1


def _reviews() -> int:
    """Reviews in several states: approved and deployed, waiting, changes requested, rejected, re-certification."""
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
