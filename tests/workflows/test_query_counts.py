"""Workflow list pages and list endpoints run a pinned number of queries, with 1 row and with 10.

The numbers live in ``query_counts.json`` beside this file. When a change moves one on purpose,
refresh it with ``SIGNET_QUERY_COUNTS=write pytest tests/workflows/test_query_counts.py`` and say
why in the commit; a count that grows with the rows is a bug (an inbox of open reviews once cost
28 queries for one review and 136 for ten).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.registry import services as registry
from apps.workflows import services
from tests.conftest import bearer
from tests.workflows.conftest import FULL_CARD, Flow

pytestmark = pytest.mark.django_db

COUNTS_FILE = Path(__file__).with_name("query_counts.json")
WRITE = os.environ.get("SIGNET_QUERY_COUNTS") == "write"


def _pinned() -> dict[str, int]:
    return json.loads(COUNTS_FILE.read_text()) if COUNTS_FILE.exists() else {}


def _open_reviews(flow: Flow, count: int) -> None:
    """``count`` versions of the flow's model, each submitted: ``count`` reviews wait for the validators."""
    for _ in range(count):
        version = registry.version_create(actor=flow.developer, model=flow.model, framework="sklearn")
        registry.card_update(actor=flow.developer, card=version.card, sections=FULL_CARD)
        services.version_submit(actor=flow.developer, version=version)


def _findings(flow: Flow, count: int) -> None:
    for i in range(count):
        services.finding_raise(
            actor=flow.validator,
            model=flow.model,
            version=flow.version,
            owner=flow.developer,
            kind="model_limitation",
            severity="low",
            title=f"Limitation {i}",
        )


def _deployments(flow: Flow, count: int) -> None:
    review = flow.submit()
    flow.decide(flow.validator, review)
    for i in range(count):
        services.deployment_record(actor=flow.it_ops, version=flow.version, environment=f"env-{i}")


def _policies(flow: Flow, count: int) -> None:
    for i in range(count):
        current = services.policy_in_force("low")
        services.policy_publish(actor=flow.administrator, tier="low", stages=current.stages, review_period_days=400 + i)


# name: (url, who looks, how the rows grow)
LISTS: dict[str, tuple[str, str, Callable[[Flow, int], None]]] = {
    "home page, waiting reviews": ("/", "validator", _open_reviews),
    "home page, submissions": ("/", "developer", _open_reviews),
    "home page, findings owned": ("/", "developer", _findings),
    "reviews endpoint": ("/api/v1/reviews/", "validator", _open_reviews),
    "reviews endpoint, assigned to me": ("/api/v1/reviews/?assigned=me", "validator", _open_reviews),
    "findings endpoint": ("/api/v1/findings/", "validator", _findings),
    "findings endpoint, filtered": ("/api/v1/findings/?status=open&owner=me", "developer", _findings),
    "deployments endpoint": ("/api/v1/deployments/", "it_ops", _deployments),
    "policies page": ("/workflows/policies/", "compliance", _policies),
    "policies endpoint": ("/api/v1/policies/", "compliance", _policies),
}


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:500])
    return len(captured)


@pytest.mark.parametrize("rows", [1, 10])
@pytest.mark.parametrize("name", LISTS)
def test_a_workflow_list_runs_its_pinned_number_of_queries(
    name: str, rows: int, token_for, django_assert_num_queries
) -> None:
    url, who, grow = LISTS[name]
    flow = Flow("low")
    person = flow.persona(who)
    client = Client(headers=bearer(token_for(person))) if url.startswith("/api/") else Client()
    client.force_login(person)
    grow(flow, rows)
    key = f"{name} ({rows})"
    if WRITE:
        pinned = _pinned()
        pinned[key] = _queries(client, url)
        COUNTS_FILE.write_text(json.dumps(dict(sorted(pinned.items())), indent=2) + "\n")
        return
    client.get(url)  # warm up, as when the numbers were taken
    with django_assert_num_queries(_pinned()[key]):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("name", LISTS)
def test_a_workflow_list_costs_the_same_with_10_rows_as_with_1(name: str) -> None:
    pinned = _pinned()
    assert pinned[f"{name} (10)"] == pinned[f"{name} (1)"], name
