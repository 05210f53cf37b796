"""The registry and project API: what lists hold, and bad input answered with clear 4xx errors."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.registry import services as registry
from apps.registry.models import Dataset, ModelVersion, RegisteredModel
from tests.conftest import Org, bearer, signed_in
from tests.factories import TeamFunction, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_projects(org: Org) -> Org:
    """``org`` plus a second project that only the outsider is part of."""
    theirs = make_project(org.outsider, name="Outsider's own")
    registry.model_create(actor=org.outsider, project=theirs, name="their-model", task="regression")
    registry.dataset_create(actor=org.outsider, project=theirs, name="Their data")
    return org


def _names(client: Client, url: str, key: str) -> set[str]:
    return {row[key] for row in client.get(url).json()["results"]}


@pytest.mark.parametrize(
    ("persona", "projects", "models", "datasets"),
    [
        ("developer", {"credit-scoring"}, {"pd-model"}, {"Applications"}),
        ("outsider", {"outsiders-own"}, {"their-model"}, {"Their data"}),
        ("auditor", {"credit-scoring", "outsiders-own"}, {"pd-model", "their-model"}, {"Applications", "Their data"}),
    ],
)
def test_lists_and_search_hold_only_what_the_caller_may_see(
    two_projects: Org, token_for, persona: str, projects: set[str], models: set[str], datasets: set[str]
) -> None:
    user = two_projects.persona(persona)
    client = Client(headers=bearer(token_for(user)))
    assert _names(client, "/api/v1/projects/", "slug") == projects
    assert _names(client, "/api/v1/models/", "name") == models
    assert _names(client, "/api/v1/datasets/", "name") == datasets
    page = signed_in(user).get("/registry/catalogue/?q=").content.decode()
    for name in ("pd-model", "their-model"):
        assert (name in page) == (name in models)
    listing = signed_in(user).get("/projects/").content.decode()
    assert ("Outsider&#x27;s own" in listing) == ("outsiders-own" in projects)


def test_a_foreign_dataset_version_cannot_be_attached_by_id(two_projects: Org, token_for) -> None:
    org = two_projects
    theirs = registry.dataset_version_link(
        actor=org.outsider, dataset=Dataset.objects.get(name="Their data"), uri="s3://theirs/data.csv"
    )
    client = Client(headers=bearer(token_for(org.developer)))
    response = client.post(
        f"/api/v1/models/{org.model.pk}/versions/", {"training_dataset": theirs.pk}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "training_dataset": ["No dataset version with this id that you can see."]
    }
    assert org.model.versions.count() == 1


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/models/", {"project": "credit-scoring", "name": "Not A Slug!", "task": "regression"}, "name"),
        ("/api/v1/models/", {"project": "credit-scoring", "name": "ok", "task": "astrology"}, "task"),
        ("/api/v1/models/", {"project": "credit-scoring", "name": "pd-model", "task": "regression"}, "name"),
        ("/api/v1/models/", {"project": "credit-scoring", "name": "ok", "task": "regression", "tags": "x"}, "tags"),
        ("/api/v1/models/{model}/versions/", {"artifact_sha256": "xyz"}, "artifact_sha256"),
        ("/api/v1/models/{model}/versions/", {"metrics": {"auc": "high"}}, "metrics"),
        ("/api/v1/models/{model}/versions/", {"metrics": [1, 2]}, "metrics"),
        ("/api/v1/models/{model}/versions/", {"parent": 999999}, "parent"),
        ("/api/v1/versions/{version}/card/", {"sections": {"colour": "blue"}}, "colour"),
        ("/api/v1/versions/{version}/card/", {"sections": "all of it"}, "sections"),
        ("/api/v1/datasets/", {"project": "credit-scoring", "name": "Applications"}, "name"),
        ("/api/v1/datasets/{dataset}/versions/", {"uri": "not a uri"}, "uri"),
        ("/api/v1/projects/", {"name": "", "business_objective": "x"}, "name"),
        (
            "/api/v1/projects/credit-scoring/qualification/",
            {"answers": {"impact_on_people": "maybe"}},
            "impact_on_people",
        ),
        ("/api/v1/projects/credit-scoring/members/", {"username": "nobody", "role": "viewer"}, "username"),
        ("/api/v1/projects/credit-scoring/members/", {"username": "otto", "role": "emperor"}, "role"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    org: Org, token_for, url: str, body: object, field: str
) -> None:
    url = url.format(model=org.model.pk, version=org.version.pk, dataset=org.dataset.pk)
    method = "put" if "card" in url or "qualification" in url else "post"
    client = Client(headers=bearer(token_for(org.owner)))
    before = (AuditEvent.objects.count(), RegisteredModel.objects.count(), ModelVersion.objects.count())
    response = getattr(client, method)(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"], error["details"]
    assert (AuditEvent.objects.count(), RegisteredModel.objects.count(), ModelVersion.objects.count()) == before


def test_malformed_json_is_a_400_in_the_error_shape(org: Org, token_for) -> None:
    response = Client(headers=bearer(token_for(org.owner))).post(
        "/api/v1/models/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_full_round_trip_through_the_api(token_for) -> None:
    beatrice = make_user("beatrice", TeamFunction.BUSINESS)
    devi = make_user("devi", TeamFunction.DATA_SCIENCE)
    b = Client(headers=bearer(token_for(beatrice)))
    d = Client(headers=bearer(token_for(devi)))
    project = b.post(
        "/api/v1/projects/",
        {"name": "Churn radar", "business_objective": "Keep customers."},
        content_type="application/json",
    ).json()
    assert project["my_roles"] == ["owner"]
    assert (
        b.post(
            "/api/v1/projects/churn-radar/members/",
            {"username": "devi", "role": "developer"},
            content_type="application/json",
        ).status_code
        == 201
    )
    answers = {
        "impact_on_people": "indirect",
        "automation": "human_reviews",
        "regulatory_scope": "sector",
        "data_sensitivity": "internal",
        "scale": "medium",
        "reversibility": "easy",
    }
    qualified = b.put(
        "/api/v1/projects/churn-radar/qualification/", {"answers": answers}, content_type="application/json"
    ).json()
    assert qualified["current"]["tier"] == "medium"
    model = d.post(
        "/api/v1/models/",
        {"project": "churn-radar", "name": "churn", "task": "binary_classification", "tags": ["Retail"]},
        content_type="application/json",
    ).json()
    assert model["tags"] == ["retail"]
    version = d.post(
        f"/api/v1/models/{model['id']}/versions/",
        {"framework": "sklearn", "metrics": {"roc_auc": 0.8}},
        content_type="application/json",
    ).json()
    assert (version["number"], version["status"], version["card_completeness"]["percent"]) == (1, "draft", 0)
    sections = dict.fromkeys(version["card_completeness"]["required"], "Written with enough words to count.")
    card = d.put(
        f"/api/v1/versions/{version['id']}/card/", {"sections": sections}, content_type="application/json"
    ).json()
    assert (card["revision"], card["completeness"]["percent"], card["completeness"]["missing"]) == (1, 100, [])
    listed = d.get("/api/v1/models/?project=churn-radar").json()["results"]
    assert listed[0]["latest_version"] == {"id": version["id"], "number": 1, "status": "draft"}
    assert AuditEvent.objects.filter(auth_method="token", action="registry.model_card.updated").count() == 1


def test_list_pages_filter_and_sort(two_projects: Org) -> None:
    org = two_projects
    registry.model_create(actor=org.developer, project=org.project, name="zz-newest", task="regression", tags=["ops"])
    client = signed_in(org.developer)
    page = client.get("/registry/models/?tag=ops").content.decode()
    assert "zz-newest" in page
    assert "pd-model" not in page
    by_name = client.get("/registry/models/?sort=name").content.decode()
    assert by_name.index("pd-model") < by_name.index("zz-newest")
    newest = client.get("/registry/models/?sort=-created").content.decode()
    assert newest.index("zz-newest") < newest.index("pd-model")
    assert "their-model" not in client.get("/registry/models/").content.decode()
    assert "Applications" in client.get("/registry/datasets/?project=credit-scoring").content.decode()
    assert "Applications" not in client.get("/registry/datasets/?project=outsiders-own").content.decode()


def test_the_catalogue_filters_by_owner(two_projects: Org) -> None:
    client = signed_in(two_projects.auditor)
    page = client.get("/registry/catalogue/?owner=otto").content.decode()
    assert "their-model" in page
    assert "Their data" in page
    assert "pd-model" not in page
    assert "Credit scoring" not in page


def test_editing_a_dataset_is_audited_with_before_and_after(org: Org) -> None:
    client = signed_in(org.developer)
    response = client.post(
        f"/registry/datasets/{org.dataset.pk}/edit/",
        {"name": "Applications", "sensitivity": "restricted", "source": "Core"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="registry.dataset.updated")
    assert event.changes["sensitivity"] == {"before": "internal", "after": "restricted"}
    assert event.changes["source"] == {"before": "", "after": "Core"}
