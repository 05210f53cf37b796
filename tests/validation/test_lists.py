"""Validation's lists: one FilterSet per list serves the page and the API, and query counts stay pinned."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.validation import services
from apps.validation.models import ValidationRun, ValidationSuite
from tests.conftest import bearer, signed_in
from tests.validation.conftest import SUITE
from tests.workflows.conftest import Flow

# Exact queries of one request, the same with 1 and with 10 rows (refresh on purpose when a list changes).
QUERIES = {
    "api_validation_runs": 3,
    "api_validation_suites": 3,
    "suite_list_page": 10,  # 16 until a request read its teams once
}


def make_runs(flow: Flow, data, count: int) -> list[ValidationRun]:
    reference, current = data
    return [
        services.run_create(
            actor=flow.validator, version=flow.version, reference=reference, current=current, spec=SUITE
        )
        for _ in range(count)
    ]


def make_suites(flow: Flow, count: int, start: int = 0) -> list[ValidationSuite]:
    return [
        services.suite_create(
            actor=flow.validator, project=flow.project, name=f"Suite {n}", spec=SUITE, model=flow.model
        )
        for n in range(start, start + count)
    ]


def test_the_run_list_filters_by_status_and_refuses_an_unknown_one(flow: Flow, data, token_for) -> None:
    run = make_runs(flow, data, 1)[0]
    api = Client(headers=bearer(token_for(flow.validator)))
    assert [item["id"] for item in api.get("/api/v1/validation-runs/?status=queued").json()["results"]] == [run.pk]
    assert api.get("/api/v1/validation-runs/?status=succeeded").json()["results"] == []
    response = api.get("/api/v1/validation-runs/?status=finished")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["status"] == ["Choose one of queued, running, succeeded, failed, error."]


def test_an_empty_filter_parameter_filters_nothing(flow: Flow, data, token_for) -> None:
    run = make_runs(flow, data, 1)[0]
    api = Client(headers=bearer(token_for(flow.validator)))
    listed = api.get("/api/v1/validation-runs/?version=&status=").json()["results"]
    assert [item["id"] for item in listed] == [run.pk]


def test_the_suite_page_and_api_filter_by_model_with_the_same_parameter(flow: Flow, token_for) -> None:
    first, second = make_suites(flow, 2)
    other = services.suite_create(actor=flow.validator, project=flow.project, name="Whole project", spec=SUITE)
    api = Client(headers=bearer(token_for(flow.validator)))
    by_model = api.get(f"/api/v1/validation-suites/?model={flow.model.pk}").json()["results"]
    assert {item["id"] for item in by_model} == {first.pk, second.pk}
    by_project = api.get(f"/api/v1/validation-suites/?project={flow.project.slug}").json()["results"]
    assert {item["id"] for item in by_project} == {first.pk, second.pk, other.pk}
    assert api.get("/api/v1/validation-suites/?project=no-such-project").json()["results"] == []

    page = signed_in(flow.validator).get(f"/validation/projects/{flow.project.slug}/suites/?model={flow.model.pk}")
    assert page.status_code == 200
    assert {suite.pk for suite in page.context["suites"]} == {first.pk, second.pk}
    assert other.name not in page.content.decode()


@pytest.mark.parametrize("hostile", ["abc", "²", str(2**63), "-1"])
def test_the_suite_page_and_api_refuse_a_model_that_is_not_an_id_alike(flow: Flow, token_for, hostile: str) -> None:
    make_suites(flow, 1)
    api = Client(headers=bearer(token_for(flow.validator)))
    response = api.get("/api/v1/validation-suites/", {"model": hostile})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["model"] == ["Give a model id."]
    page = signed_in(flow.validator).get(f"/validation/projects/{flow.project.slug}/suites/", {"model": hostile})
    assert page.status_code == 400
    assert "Give a model id." in page.content.decode()
    assert list(page.context["suites"]) == []


@pytest.mark.parametrize("rows", [1, 10])
def test_the_run_list_endpoint_makes_a_fixed_number_of_queries(
    flow: Flow, data, token_for, django_assert_num_queries, rows: int
) -> None:
    make_runs(flow, data, rows)
    api = Client(headers=bearer(token_for(flow.validator)))
    api.get("/api/v1/validation-runs/")  # the token's first use records itself once
    with django_assert_num_queries(QUERIES["api_validation_runs"]):
        listed = api.get("/api/v1/validation-runs/").json()["results"]
    assert len(listed) == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_the_suite_list_endpoint_makes_a_fixed_number_of_queries(
    flow: Flow, token_for, django_assert_num_queries, rows: int
) -> None:
    make_suites(flow, rows)
    api = Client(headers=bearer(token_for(flow.validator)))
    api.get("/api/v1/validation-suites/")
    with django_assert_num_queries(QUERIES["api_validation_suites"]):
        listed = api.get("/api/v1/validation-suites/").json()["results"]
    assert len(listed) == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_the_suite_list_page_makes_a_fixed_number_of_queries(flow: Flow, django_assert_num_queries, rows: int) -> None:
    make_suites(flow, rows)
    client = signed_in(flow.validator)
    client.get(f"/validation/projects/{flow.project.slug}/suites/")
    with django_assert_num_queries(QUERIES["suite_list_page"]):
        page = client.get(f"/validation/projects/{flow.project.slug}/suites/")
    assert len(page.context["suites"]) == rows
