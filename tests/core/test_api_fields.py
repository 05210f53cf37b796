"""A JSON value of the wrong type is a 400 naming the field, never quietly converted (0 is not "0")."""

from __future__ import annotations

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from apps.projects.models import Project
from apps.registry.models import Dataset, RegisteredModel
from apps.validation.models import ValidationSuite
from tests.conftest import Org, bearer
from tests.validation.conftest import SUITE

pytestmark = pytest.mark.django_db


def _api(org: Org, token_for) -> Client:
    return Client(headers=bearer(token_for(org.developer)))


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("out_of_scope", 0, "Expected text, got a number."),
        ("name", 12.5, "Expected text, got a number."),
        ("business_objective", True, "Expected text, got true or false."),
        ("slug", 7, "Expected text, got a number."),
        ("intended_users", ["people"], "Expected text, got a list."),
    ],
)
def test_a_number_or_a_list_sent_for_text_is_refused(org: Org, token_for, field: str, value: object, says: str) -> None:
    body = {"name": "Churn", "business_objective": "Keep customers", field: value}
    response = _api(org, token_for).post("/api/v1/projects/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"][field] == [says]
    assert not Project.objects.exclude(pk=org.project.pk).exists()


def test_text_items_of_a_list_must_be_text(org: Org, token_for) -> None:
    response = _api(org, token_for).patch(
        f"/api/v1/models/{org.model.pk}/", {"tags": ["fine", 0]}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"]["tags"] == {"1": ["Expected text, got a number."]}
    assert list(RegisteredModel.objects.get(pk=org.model.pk).tags.values_list("name", flat=True)) == ["credit"]


@pytest.mark.parametrize("value", ["true", 1, "yes"])
def test_a_flag_is_true_or_false_not_a_word_or_a_number(org: Org, token_for, value: object) -> None:
    body = {"project": org.project.slug, "name": "Bureau data", "contains_personal_data": value}
    response = _api(org, token_for).post("/api/v1/datasets/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"]["contains_personal_data"] == [
        "Expected true or false, got " + ("text." if isinstance(value, str) else "a number.")
    ]
    assert not Dataset.objects.filter(name="Bureau data").exists()


@pytest.mark.parametrize(("value", "says"), [("24", "text"), (24.0, "a number"), (False, "true or false")])
def test_a_whole_number_is_a_json_integer(org: Org, token_for, value: object, says: str) -> None:
    body = {"project": org.project.slug, "name": "Nightly", "spec": SUITE, "schedule_hours": value}
    response = _api(org, token_for).post("/api/v1/validation-suites/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"]["schedule_hours"] == [f"Expected a whole number, got {says}."]
    assert not ValidationSuite.objects.exists()


def test_the_right_types_are_still_accepted_and_an_empty_slug_means_derive_it(org: Org, token_for) -> None:
    body = {"name": "Churn radar", "slug": "", "business_objective": "Keep customers", "out_of_scope": ""}
    response = _api(org, token_for).post("/api/v1/projects/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "churn-radar"


def test_the_schema_promises_what_blank_fields_accept() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    create = schema["components"]["schemas"]["ProjectCreateRequest"]["properties"]["slug"]
    assert create["pattern"] == "^$|^[-a-zA-Z0-9_]+$"
