"""The project list, as a page and as an endpoint, runs a pinned number of queries whatever its length."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from apps.projects import services as projects
from tests.conftest import bearer
from tests.factories import TeamFunction, make_project, make_user
from tests.monitoring.conftest import flow, watched

__all__ = ["flow", "watched"]

pytestmark = pytest.mark.django_db

# Queries of one request, with 1 and with 10 projects (each with a KPI), as an auditor and as a member.
PINNED = {("/projects/", "auditor"): 5, ("/api/v1/projects/", "auditor"): 8}


@pytest.mark.parametrize("rows", [1, 10])
@pytest.mark.parametrize(("url", "persona"), PINNED)
def test_the_project_list_queries_are_pinned(
    url: str, persona: str, rows: int, token_for, django_assert_num_queries
) -> None:
    owner = make_user("olivia", TeamFunction.BUSINESS)
    reader = make_user("audrey", TeamFunction.AUDIT)
    for i in range(rows):
        project = make_project(owner, name=f"Project {i}")
        kpi = projects.kpi_create(actor=owner, project=project, name="Uptake", target=Decimal("10"))
        projects.kpi_record_value(actor=owner, kpi=kpi, value=Decimal(i))
    client = Client(headers=bearer(token_for(reader)))
    client.force_login(reader)
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with django_assert_num_queries(PINNED[url, persona]):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b"Project ") >= rows


@pytest.mark.parametrize("rows", [1, 10])
@pytest.mark.parametrize(
    ("url", "queries"), [("/projects/credit-scoring/team/", 7), ("/api/v1/projects/credit-scoring/members/", 6)]
)
def test_the_team_list_queries_are_pinned(
    url: str, queries: int, rows: int, token_for, django_assert_num_queries
) -> None:
    owner = make_user("olivia", TeamFunction.BUSINESS)
    project = make_project(owner)
    for i in range(rows):
        projects.membership_add(actor=owner, project=project, user=make_user(f"viewer{i}"), role="viewer")
    client = Client(headers=bearer(token_for(owner)))
    client.force_login(owner)
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    assert f"viewer{rows - 1}".encode() in response.content


# Queries of the project page, as a member, whatever the number of KPIs, of their values and of the
# project's monitors: the KPIs with their newest values (one query), which version was in production
# for each value shown (one), the monitoring tile with each monitor's open breaches counted (one).
PROJECT_PAGE = 21  # 19 before the chart read which version was in production and the monitoring tile


@pytest.mark.parametrize("kpis", [1, 10])
def test_the_project_page_queries_are_pinned(kpis: int, watched, django_assert_num_queries) -> None:
    flow = watched.flow
    for i in range(kpis):
        kpi = projects.kpi_create(actor=flow.owner, project=flow.project, name=f"KPI {i}", target=Decimal("10"))
        for value in range(3):
            projects.kpi_record_value(actor=flow.owner, kpi=kpi, value=Decimal(value))
    client = Client()
    client.force_login(flow.validator)
    url = f"/projects/{flow.project.slug}/"
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with django_assert_num_queries(PROJECT_PAGE):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b'class="chart kpi-chart"') == kpis
    assert b'id="monitoring-tile"' in response.content
    assert b"waiting for its first batch" in response.content
