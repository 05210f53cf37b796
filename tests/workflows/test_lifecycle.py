"""The version page and the API offer exactly the lifecycle moves the services accept, for every
status a version can be in and every persona (one transition table: ``apps.workflows.lifecycle``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.registry import services as registry
from apps.registry.models import ModelVersion
from apps.workflows import lifecycle, services
from apps.workflows.models import Review
from tests.conftest import PERSONAS, bearer
from tests.workflows.conftest import Flow

pytestmark = pytest.mark.django_db


def _approve(flow: Flow) -> Review:
    review = flow.submit()
    flow.decide(flow.validator, review)
    return review


def _deploy(flow: Flow) -> Review:
    review = _approve(flow)
    services.deployment_record(actor=flow.it_ops, version=flow.version, environment="production")
    return review


def _expire(review: Review) -> None:
    Review.objects.filter(pk=review.pk).update(expires_at=timezone.now() - timedelta(days=1))


def _expired_deployed(flow: Flow) -> None:
    _expire(_deploy(flow))


def _stale_approved(flow: Flow) -> None:
    _approve(flow)
    registry.card_update(actor=flow.developer, card=flow.version.card, sections={"limitations": "Also for SMEs."})


def _renewing_deployed(flow: Flow) -> None:
    _expired_deployed(flow)
    flow.submit()


def _recertifying(flow: Flow) -> None:
    review = _approve(flow)
    Review.objects.filter(pk=review.pk).update(expires_at=timezone.now() + timedelta(days=5))
    assert services.workflow_reminders()["recertifications_opened"] == 1


STATES: dict[str, Callable[[Flow], object]] = {
    "draft": lambda flow: None,
    "in review": lambda flow: flow.submit(),
    "changes requested": lambda flow: flow.decide(flow.validator, flow.submit(), "request_changes", "Fix it."),
    "rejected": lambda flow: flow.decide(flow.validator, flow.submit(), "reject", "No."),
    "approved": _approve,
    "approved, stale": _stale_approved,
    "approved, re-certification open": _recertifying,
    "deployed": _deploy,
    "deployed, expired": _expired_deployed,
    "deployed, renewing its approval": _renewing_deployed,
    "retired": lambda flow: services.version_retire(actor=flow.owner, version=flow.version, reason="Replaced."),
}

NOTHING_TO_OFFER = {"retired", "in review", "deployed, renewing its approval"}

# How each move is asked of its service.
ATTEMPTS: dict[str, Callable[[Flow, User, ModelVersion], object]] = {
    "submit": lambda flow, who, version: services.version_submit(actor=who, version=version),
    "renew": lambda flow, who, version: services.version_submit(actor=who, version=version),
    "deploy": lambda flow, who, version: services.deployment_record(
        actor=who, version=version, environment="production"
    ),
    "retire": lambda flow, who, version: services.version_retire(actor=who, version=version, reason="Replaced."),
}


class _Undo(Exception):
    pass


def _accepted(flow: Flow, who: User, move: str) -> bool:
    """Whether the service accepts ``move`` by ``who`` now; what it did is rolled back."""
    version = ModelVersion.objects.select_related("model__project").get(pk=flow.version.pk)
    if move in ("submit", "renew") and lifecycle.submission_move(version.status).name != move:
        return False  # submitting makes the other of the two moves
    try:
        with transaction.atomic():
            ATTEMPTS[move](flow, who, version)
            raise _Undo
    except _Undo:
        return True
    except (PermissionDenied, ValidationError):
        return False


def _offered_on_page(flow: Flow, who: User) -> set[str]:
    client = Client()
    client.force_login(who)
    response = client.get(f"/registry/versions/{flow.version.pk}/")
    if response.status_code == 404:
        return set()
    assert response.status_code == 200
    return set(re.findall(r'data-move="([a-z_]+)"', response.content.decode()))


@pytest.mark.parametrize("state", STATES)
def test_the_page_and_the_api_offer_exactly_the_moves_the_services_accept(state: str, token_for) -> None:
    flow = Flow("low")
    STATES[state](flow)
    expected_any = set()
    for persona in PERSONAS:
        who = flow.persona(persona)
        accepted = {move for move in lifecycle.MOVES if _accepted(flow, who, move)}
        assert _offered_on_page(flow, who) == accepted, (state, persona)
        api = Client(headers=bearer(token_for(who))).get(f"/api/v1/versions/{flow.version.pk}/moves/")
        offered_by_api = set(api.json()["moves"]) if api.status_code == 200 else set()
        assert offered_by_api == accepted, (state, persona)
        expected_any |= accepted
    # Only a final state, and a version whose review is open (decided on the review's page), offer nothing.
    assert bool(expected_any) == (state not in NOTHING_TO_OFFER), (state, expected_any)


def test_the_version_page_offers_the_renewal_the_service_accepts() -> None:
    flow = Flow("low")
    _expired_deployed(flow)
    assert _offered_on_page(flow, flow.developer) == {"renew"}
    assert _accepted(flow, flow.developer, "renew")


def test_the_version_page_says_what_the_card_lacks_instead_of_offering_a_submit_the_service_refuses() -> None:
    flow = Flow("low")
    _stale_approved(flow)  # the card edit leaves the limitations too short for the tier
    client = Client()
    client.force_login(flow.developer)
    page = client.get(f"/registry/versions/{flow.version.pk}/").content.decode()
    assert 'data-move="renew"' not in page
    assert 'data-wants="submit"' in page
    assert "Complete the model card first" in page
    with pytest.raises(ValidationError, match="Complete the model card first"):
        services.version_submit(actor=flow.developer, version=flow.version)


def test_every_move_of_the_table_starts_and_ends_in_a_known_state() -> None:
    for move in lifecycle.MOVES.values():
        assert move.sources <= set(lifecycle.STATES)
        assert move.target in lifecycle.STATES
    for outcome in lifecycle.REVIEW_OUTCOMES.values():
        assert outcome.target in lifecycle.STATES
