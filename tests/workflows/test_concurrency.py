"""Many people deciding on the same review at once, on PostgreSQL: one transition, no 500."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client

from apps.accounts.services import api_token_create
from apps.audit import selectors as audit_selectors
from apps.audit.chain import verify
from apps.audit.models import AuditEvent
from apps.registry.models import ModelVersion
from apps.workflows import services
from tests.conftest import bearer
from tests.workflows.conftest import Flow


@pytest.mark.django_db(transaction=True)
def test_concurrent_and_duplicate_decisions_make_exactly_one_transition() -> None:
    flow = Flow("low")
    review = flow.submit()
    digest = services.evidence_digest(flow.version)
    tokens = [
        api_token_create(actor=None, user=user, name="t", days=1)[1] for user in (flow.validator, flow.validator2)
    ]
    statuses: list[int] = []
    barrier = threading.Barrier(10)

    def decide(token: str) -> None:
        try:
            barrier.wait()
            response = Client(headers=bearer(token)).post(
                f"/api/v1/reviews/{review.pk}/decisions/",
                {"kind": "approve", "evidence_digest": digest},
                content_type="application/json",
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(tokens[i % 2],)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(statuses) <= {201, 400, 403}
    assert statuses.count(201) == 1
    assert ModelVersion.objects.get(pk=flow.version.pk).status == "approved"
    assert AuditEvent.objects.filter(action="workflows.review.closed").count() == 1
    assert review.decisions.count() == 1
    assert verify(audit_selectors.audit_chain()).ok
