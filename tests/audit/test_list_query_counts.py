"""The audit trail's list, as a page and as an endpoint, runs a pinned number of queries."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.projects import services as projects
from tests.conftest import bearer
from tests.factories import TeamFunction, make_user

pytestmark = pytest.mark.django_db

# Queries of one request, with 1 and with 10 projects proposed (each writes its events), as an auditor.
PINNED = {
    # 13 until the page stopped counting the filtered trail (keyset pages), 12 until a request read
    # the auditor's teams once for all its checks
    "/audit/": 7,
    "/audit/?action=projects.": 7,
    "/api/v1/audit-events/": 5,
    "/api/v1/audit-events/?actor=olivia": 5,
}


@pytest.mark.parametrize("rows", [1, 10])
@pytest.mark.parametrize("url", PINNED)
def test_the_audit_list_queries_are_pinned(url: str, rows: int, token_for, django_assert_num_queries) -> None:
    owner = make_user("olivia", TeamFunction.BUSINESS)
    auditor = make_user("audrey", TeamFunction.AUDIT)
    for i in range(rows):
        projects.project_create(actor=owner, name=f"Project {i}", business_objective="Decide faster.")
    client = Client(headers=bearer(token_for(auditor)))
    client.force_login(auditor)
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with django_assert_num_queries(PINNED[url]):
        response = client.get(url)
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="projects.project.created").count() == rows
    assert f"Project {rows - 1}".encode() in response.content
