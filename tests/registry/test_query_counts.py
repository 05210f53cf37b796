"""List pages and list endpoints run a number of queries that does not grow with the page size.

The numbers are pinned: a change that adds a query to a list shows here, and is refreshed on purpose.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.projects import services as projects
from apps.registry import services as registry
from tests.conftest import bearer
from tests.factories import TeamFunction, make_project, make_user

pytestmark = pytest.mark.django_db


def _grow(owner, developer, count: int, start: int) -> None:
    for i in range(start, start + count):
        project = make_project(owner, name=f"Project {i}", developer=developer)
        kpi = projects.kpi_create(actor=owner, project=project, name="Uptake", target=Decimal("10"))
        projects.kpi_record_value(actor=owner, kpi=kpi, value=Decimal(i))
        model = registry.model_create(
            actor=developer, project=project, name=f"model-{i}", task="regression", tags=["a", f"t{i}"]
        )
        for _ in range(2):
            registry.version_create(actor=developer, model=model)
        registry.dataset_create(actor=developer, project=project, name=f"Data {i}")


def _queries(client: Client, url: str, show: bool = False) -> int:
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    if show:
        for query in captured:
            print(query["sql"][:200])
    return len(captured)


PAGES = ["/projects/", "/registry/datasets/", "/registry/catalogue/?q=", "/registry/catalogue/?q=model"]
ENDPOINTS = ["/api/v1/projects/", "/api/v1/models/", "/api/v1/datasets/", "/api/v1/audit-events/"]


@pytest.mark.parametrize("url", PAGES + ENDPOINTS)
def test_list_queries_do_not_grow_with_the_number_of_rows(url: str, token_for) -> None:
    owner = make_user("olivia", TeamFunction.BUSINESS)
    developer = make_user("devon", TeamFunction.DATA_SCIENCE)
    auditor = make_user("audrey", TeamFunction.AUDIT)  # sees everything, so every row is on the page
    client = Client(headers=bearer(token_for(auditor)))
    client.force_login(auditor)
    _grow(owner, developer, 3, 0)
    small = _queries(client, url)
    _grow(owner, developer, 6, 3)
    large = _queries(client, url)
    assert large == small, f"{url}: {small} queries for 3 projects, {large} for 9"


@pytest.mark.parametrize("page_size", [2, 8])
def test_a_models_versions_endpoint_is_constant_in_the_page_size(page_size: int, token_for) -> None:
    owner = make_user("olivia", TeamFunction.BUSINESS)
    developer = make_user("devon", TeamFunction.DATA_SCIENCE)
    project = make_project(owner, developer=developer)
    model = registry.model_create(actor=developer, project=project, name="m", task="regression")
    for _ in range(10):
        registry.version_create(actor=developer, model=model)
    client = Client(headers=bearer(token_for(developer)))
    counts = {
        size: _queries(client, f"/api/v1/models/{model.pk}/versions/?page_size={size}") for size in (page_size, 10)
    }
    assert counts[page_size] == counts[10]


def test_the_project_page_is_constant_in_the_number_of_models_and_kpis(token_for) -> None:
    owner = make_user("olivia", TeamFunction.BUSINESS)
    developer = make_user("devon", TeamFunction.DATA_SCIENCE)
    project = make_project(owner, developer=developer)
    client = Client()
    client.force_login(owner)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            model = registry.model_create(actor=developer, project=project, name=f"m{i}", task="regression")
            registry.version_create(actor=developer, model=model)
            kpi = projects.kpi_create(actor=owner, project=project, name=f"KPI {i}", target=Decimal("1"))
            projects.kpi_record_value(actor=owner, kpi=kpi, value=Decimal("2"))
            projects.data_need_create(actor=developer, project=project, description=f"Need {i}")
            projects.comment_add(actor=developer, project=project, body=f"Comment {i}")

    add(2, 0)
    small = _queries(client, f"/projects/{project.slug}/")
    add(5, 2)
    assert _queries(client, f"/projects/{project.slug}/") == small


def test_kpis_without_values_cost_no_query_each_on_the_project_page() -> None:
    owner = make_user("olivia", TeamFunction.BUSINESS)
    project = make_project(owner)
    client = Client()
    client.force_login(owner)
    projects.kpi_create(actor=owner, project=project, name="KPI 0", target=Decimal("1"))
    small = _queries(client, f"/projects/{project.slug}/")
    for i in range(1, 6):
        projects.kpi_create(actor=owner, project=project, name=f"KPI {i}", target=Decimal("1"))
    assert _queries(client, f"/projects/{project.slug}/") == small


# Queries of one request, with 1 and with 10 rows (one project, model and dataset per row), as an auditor.
# The models page: one COUNT for its pager, the latest versions (with cards) of its page in one query.
# The catalogue counts each project's models instead of fetching them; the API names the latest version
# from annotations instead of prefetching every version.
PINNED = {
    "/registry/models/": 8,
    "/registry/datasets/": 5,
    "/registry/catalogue/?q=": 10,
    "/registry/catalogue/?q=model": 9,
    "/api/v1/models/": 6,
    "/api/v1/datasets/": 5,
}


@pytest.mark.parametrize("rows", [1, 10])
@pytest.mark.parametrize("url", PINNED)
def test_list_queries_are_pinned(url: str, rows: int, token_for, django_assert_num_queries) -> None:
    owner = make_user("olivia", TeamFunction.BUSINESS)
    developer = make_user("devon", TeamFunction.DATA_SCIENCE)
    auditor = make_user("audrey", TeamFunction.AUDIT)
    client = Client(headers=bearer(token_for(auditor)))
    client.force_login(auditor)
    _grow(owner, developer, rows, 0)
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with django_assert_num_queries(PINNED[url]):
        response = client.get(url)
    assert response.status_code == 200
    last = f"Data {rows - 1}" if "datasets" in url else f"model-{rows - 1}"
    assert last.encode() in response.content, "the list holds every row"


@pytest.mark.parametrize("rows", [1, 10])
def test_the_versions_of_a_model_and_of_a_dataset_are_pinned(rows: int, token_for, django_assert_num_queries) -> None:
    owner = make_user("olivia", TeamFunction.BUSINESS)
    developer = make_user("devon", TeamFunction.DATA_SCIENCE)
    project = make_project(owner, developer=developer)
    model = registry.model_create(actor=developer, project=project, name="m", task="regression")
    dataset = registry.dataset_create(actor=developer, project=project, name="Data")
    for i in range(rows):
        registry.version_create(actor=developer, model=model)
        registry.dataset_version_link(actor=developer, dataset=dataset, uri=f"s3://bucket/data-{i}.parquet")
    client = Client(headers=bearer(token_for(developer)))
    for url, queries in ((f"/api/v1/models/{model.pk}/versions/", 4), (f"/api/v1/datasets/{dataset.pk}/versions/", 4)):
        client.get(url)
        with django_assert_num_queries(queries):
            response = client.get(url)
        assert len(response.json()["results"]) == rows
