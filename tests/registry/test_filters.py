"""A list's page and its API endpoint read the same filters with the same meaning (one FilterSet each)."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.registry import services as registry
from tests.conftest import bearer
from tests.factories import TeamFunction, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(token_for):
    owner = make_user("olivia", TeamFunction.BUSINESS)
    developer = make_user("devon", TeamFunction.DATA_SCIENCE)
    credit = make_project(owner, name="Credit scoring", developer=developer)
    churn = make_project(owner, name="Churn", developer=developer)
    registry.model_create(actor=developer, project=credit, name="pd-model", task="regression", tags=["Retail"])
    registry.model_create(
        actor=developer, project=churn, name="churn-model", task="binary_classification", description="Fraud aware"
    )
    registry.dataset_create(actor=developer, project=credit, name="Loans")
    registry.dataset_create(actor=developer, project=churn, name="Calls", description="Fraud reports")
    client = Client(headers=bearer(token_for(developer)))
    client.force_login(developer)
    return client, credit, churn


def _page_names(client: Client, url: str, names: set[str]) -> set[str]:
    content = client.get(url).content.decode()
    return {name for name in names if name in content}


MODELS = {"pd-model", "churn-model"}
DATASETS = {"Loans", "Calls"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=fraud", {"churn-model"}),  # the description counts, on the page and in the API alike
        ("q=PD-MOD", {"pd-model"}),
        ("task=regression", {"pd-model"}),
        ("tag=RETAIL", {"pd-model"}),
        ("project=churn", {"churn-model"}),
        ("q=%20fraud%20", {"churn-model"}),  # trimmed
        ("", MODELS),
    ],
)
def test_the_model_list_page_and_endpoint_filter_alike(catalogue, query: str, expected: set[str]) -> None:
    client, _credit, _churn = catalogue
    api = {row["name"] for row in client.get(f"/api/v1/models/?{query}").json()["results"]}
    assert api == expected
    assert _page_names(client, f"/registry/models/?{query}", MODELS) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [("q=fraud", {"Calls"}), ("q=loa", {"Loans"}), ("project=credit-scoring", {"Loans"}), ("", DATASETS)],
)
def test_the_dataset_list_page_and_endpoint_filter_alike(catalogue, query: str, expected: set[str]) -> None:
    client, _credit, _churn = catalogue
    api = {row["name"] for row in client.get(f"/api/v1/datasets/?{query}").json()["results"]}
    assert api == expected
    assert _page_names(client, f"/registry/datasets/?{query}", DATASETS) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=churn", {"Churn"}),
        ("q=decide", set()),
        ("status=proposed", {"Churn", "Credit scoring"}),
        ("tier=high", set()),
    ],
)
def test_the_project_list_page_and_endpoint_filter_alike(catalogue, query: str, expected: set[str]) -> None:
    client, _credit, _churn = catalogue
    api = {row["name"] for row in client.get(f"/api/v1/projects/?{query}").json()["results"]}
    assert api == expected
    assert _page_names(client, f"/projects/?{query}", {"Churn", "Credit scoring"}) == expected


@pytest.mark.parametrize(
    "given",
    [{}, {"project": "", "task": "  ", "tag": "", "q": ""}, {"tag": "retail"}, {"q": "FRAUD"}, {"project": "churn"}],
)
def test_apply_is_the_filtersets_answer_and_builds_none_when_nothing_filters(catalogue, given: dict[str, str]) -> None:
    from apps.registry.filters import RegisteredModelFilter
    from apps.registry.models import RegisteredModel

    everything = RegisteredModel.objects.order_by("pk")
    applied = RegisteredModelFilter.apply(given, everything)
    assert list(applied) == list(RegisteredModelFilter(given, queryset=everything).qs)
    assert len(applied) == (2 if not any(value.strip() for value in given.values()) else 1)
