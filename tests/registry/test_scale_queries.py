"""The registry's reads and pages at organisation scale: query counts pinned and independent of the rows.

Each test builds a small registry, counts the queries of a request, grows it (more models, more
versions per model, more tags, a project the reader cannot see) and counts again: the two are equal
and equal to the pinned number. The reader is a developer who sees most projects, not an auditor.
Rows are bulk-created: the reads do not care how they were written, and the services' own tests
cover the writes.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.projects.models import Project
from apps.registry.models import ModelCard, ModelVersion, RegisteredModel, Tag
from apps.registry.selectors import PANEL_MODELS, project_panel
from apps.registry.views.versions import MODELS_PER_PAGE, VERSIONS_PER_PAGE
from tests.conftest import bearer
from tests.factories import TeamFunction, make_project, make_user

pytestmark = pytest.mark.django_db


@dataclass
class Registry:
    developer: User
    seen: list[Project]
    hidden: Project
    made: int = 0

    def grow(self, models: int, versions: int) -> None:
        """Add ``models`` models to each project (seen or not), each with ``versions`` versions and 3 tags."""
        tags = [Tag.objects.get_or_create(name=f"tag-{i}")[0] for i in range(4)]
        for project in [*self.seen, self.hidden]:
            new = RegisteredModel.objects.bulk_create(
                RegisteredModel(
                    project=project, name=f"model-{self.made + i:04d}", task="regression", created_by=self.developer
                )
                for i in range(models)
            )
            self.made += models
            RegisteredModel.tags.through.objects.bulk_create(
                RegisteredModel.tags.through(registeredmodel_id=m.pk, tag_id=t.pk) for m in new for t in tags[:3]
            )
            made = ModelVersion.objects.bulk_create(
                ModelVersion(model=m, number=n, created_by=self.developer) for m in new for n in range(1, versions + 1)
            )
            ModelCard.objects.bulk_create(ModelCard(version=v, intended_use="Scoring of credit lines.") for v in made)

    def add_versions(self, model: RegisteredModel, count: int) -> None:
        start = model.versions.count()
        made = ModelVersion.objects.bulk_create(
            ModelVersion(model=model, number=start + n, created_by=self.developer) for n in range(1, count + 1)
        )
        ModelCard.objects.bulk_create(ModelCard(version=v) for v in made)


@pytest.fixture
def registry() -> Registry:
    owner = make_user("olivia", TeamFunction.BUSINESS)
    developer = make_user("devon", TeamFunction.DATA_SCIENCE)
    seen = [make_project(owner, name=f"Seen {i}", developer=developer) for i in range(2)]
    hidden = make_project(owner, name="Hidden")
    return Registry(developer=developer, seen=seen, hidden=hidden)


def _count(client: Client, url: str, status: int = 200) -> int:
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == status, (url, response.content[:300])
    return len(captured)


def _first_model(registry: Registry) -> RegisteredModel:
    return RegisteredModel.objects.filter(project=registry.seen[0]).order_by("pk").first()  # type: ignore[return-value]


def _deep_cursor(client: Client) -> str:
    """The third page of the API's models, by following next links as a client does."""
    url = "/api/v1/models/?page_size=2"
    for _ in range(2):
        url = client.get(url).json()["next"]
    return url


# Queries per request, as the developer (a bearer token for the API, a session for the pages).
API_READS = {"list": 4, "deep page": 4, "by tag": 4, "versions of a model": 4, "one model": 4, "one version": 3}
PAGES = {"models": 8, "models, page 2": 8, "models by tag": 8, "a model": 13, "a version": 19}
# The model page counts its findings (it lists the 50 newest); the version page counts its findings and
# deployments (50 and 20 newest shown): one query each, whatever the rows; its monitors (20 shown) one more.


def _api_urls(registry: Registry, client: Client) -> dict[str, str]:
    model = _first_model(registry)
    version = model.versions.order_by("-number").first()
    assert version is not None
    return {
        "list": "/api/v1/models/",
        "deep page": _deep_cursor(client),
        "by tag": "/api/v1/models/?tag=TAG-1",
        "versions of a model": f"/api/v1/models/{model.pk}/versions/",
        "one model": f"/api/v1/models/{model.pk}/",
        "one version": f"/api/v1/versions/{version.pk}/",
    }


def _page_urls(registry: Registry) -> dict[str, str]:
    model = _first_model(registry)
    version = model.versions.order_by("-number").first()
    assert version is not None
    return {
        "models": "/registry/models/",
        "models, page 2": "/registry/models/?sort=-created&page=2",
        "models by tag": "/registry/models/?tag=tag-1",
        "a model": f"/registry/models/{model.pk}/",
        "a version": f"/registry/versions/{version.pk}/",
    }


@pytest.mark.parametrize("read", API_READS)
def test_each_registry_api_read_costs_the_same_whatever_the_registry_holds(read: str, registry: Registry, token_for):
    client = Client(headers=bearer(token_for(registry.developer)))
    registry.grow(models=3, versions=2)
    small = _count(client, _api_urls(registry, client)[read])
    registry.grow(models=9, versions=6)
    registry.add_versions(_first_model(registry), 60)  # more than a page of versions
    large = _count(client, _api_urls(registry, client)[read])
    assert (small, large) == (API_READS[read], API_READS[read])


@pytest.mark.parametrize("page", PAGES)
def test_each_registry_page_costs_the_same_whatever_the_registry_holds(page: str, registry: Registry):
    client = Client()
    client.force_login(registry.developer)
    registry.grow(models=30, versions=2)  # two pages of models for the developer
    small = _count(client, _page_urls(registry)[page])
    registry.grow(models=60, versions=5)
    registry.add_versions(_first_model(registry), 3 * VERSIONS_PER_PAGE)
    large = _count(client, _page_urls(registry)[page])
    assert (small, large) == (PAGES[page], PAGES[page])


def test_the_api_names_each_models_latest_version_without_fetching_the_others(registry: Registry, token_for):
    registry.grow(models=1, versions=3)
    client = Client(headers=bearer(token_for(registry.developer)))
    model = _first_model(registry)
    latest = model.versions.order_by("-number").first()
    assert latest is not None
    body = client.get(f"/api/v1/models/{model.pk}/").json()
    assert body["latest_version"] == {"id": latest.pk, "number": 3, "status": "draft"}
    empty = RegisteredModel.objects.create(
        project=registry.seen[0], name="no-version-yet", task="regression", created_by=registry.developer
    )
    assert client.get(f"/api/v1/models/{empty.pk}/").json()["latest_version"] is None


def test_the_api_lists_only_models_of_projects_the_reader_sees(registry: Registry, token_for):
    registry.grow(models=2, versions=1)
    client = Client(headers=bearer(token_for(registry.developer)))
    names = {m["project"] for m in client.get("/api/v1/models/?page_size=200").json()["results"]}
    assert names == {p.slug for p in registry.seen}


@pytest.mark.parametrize("cursor", ["not-a-cursor", base64.b64encode(b"p=abc").decode()])
def test_a_bad_cursor_on_the_models_list_is_a_400_that_says_so(cursor: str, registry: Registry, token_for):
    client = Client(headers=bearer(token_for(registry.developer)))
    response = client.get("/api/v1/models/", {"cursor": cursor})
    assert response.status_code == 400
    assert "The cursor is not one this list gave out" in response.content.decode()


def test_creating_a_version_through_the_api_costs_a_pinned_number_of_statements(
    registry: Registry, token_for, django_assert_num_queries
):
    # Token, the actor's teams (read once for the request: the audit-team check and the event's roles),
    # the model, the builder's roles; BEGIN, the model's row lock, the next number, the version, its
    # card; the audit event (the chain head locked and read in one statement, insert, head update; no
    # savepoint); COMMIT. No re-validation of its relations, no re-read.
    registry.grow(models=1, versions=2)
    client = Client(headers=bearer(token_for(registry.developer)))
    model = _first_model(registry)
    url = f"/api/v1/models/{model.pk}/versions/"
    client.post(url, {"framework": "sklearn"}, content_type="application/json")
    with django_assert_num_queries(13):
        response = client.post(url, {"framework": "sklearn", "metrics": {"auc": 0.8}}, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert (body["number"], body["model"], body["created_by"], body["card_revision"]) == (4, model.name, "devon", 0)
    assert body["card_completeness"]["percent"] == 0


def _rows(html: str) -> list[str]:
    return re.findall(r'<td><a href="/registry/models/\d+/">([^<]+)</a></td>', html)


def test_the_models_page_shows_one_page_of_models_with_links_that_keep_the_filters(registry: Registry):
    registry.grow(models=MODELS_PER_PAGE, versions=1)  # two full pages for the developer
    client = Client()
    client.force_login(registry.developer)
    first = client.get("/registry/models/?tag=tag-1&sort=-created").content.decode()
    assert len(_rows(first)) == MODELS_PER_PAGE
    assert "Page 1 of 2" in first
    assert 'href="?tag=tag-1&amp;sort=-created&amp;page=2"' in first
    second = client.get("/registry/models/?tag=tag-1&sort=-created&page=2").content.decode()
    assert len(_rows(second)) == MODELS_PER_PAGE
    assert not set(_rows(first)) & set(_rows(second))
    assert "Hidden" not in first + second


@pytest.mark.parametrize(
    ("page", "status", "message"),
    [
        ("abc", 400, "The page must be a whole number from 1"),
        ("0", 400, "The page must be a whole number from 1"),
        ("99999999999", 400, "The page must be a whole number from 1"),
        ("9", 404, "There is no page 9: this list has 1 page."),
    ],
)
def test_a_models_page_that_does_not_exist_says_so(page: str, status: int, message: str, registry: Registry):
    registry.grow(models=1, versions=1)
    client = Client()
    client.force_login(registry.developer)
    response = client.get(f"/registry/models/?q=model&page={page}")
    assert response.status_code == status
    assert message in response.content.decode()
    assert 'href="?q=model"' in response.content.decode(), "a way back to the first page, filters kept"


def test_a_models_page_lists_its_versions_a_page_at_a_time(registry: Registry):
    registry.grow(models=1, versions=VERSIONS_PER_PAGE + 5)
    client = Client()
    client.force_login(registry.developer)
    model = _first_model(registry)
    first = client.get(f"/registry/models/{model.pk}/").content.decode()
    newest = VERSIONS_PER_PAGE + 5
    assert f">v{newest}<" in first
    assert ">v5<" not in first
    second = client.get(f"/registry/models/{model.pk}/?page=2").content.decode()
    assert ">v5<" in second
    assert f">v{newest}<" not in second
    assert client.get(f"/registry/models/{model.pk}/?page=3").status_code == 404


def test_the_project_panel_lists_a_bounded_number_of_models_and_links_to_all(registry: Registry):
    registry.grow(models=PANEL_MODELS + 3, versions=2)
    panel = project_panel(user=registry.developer, project=registry.seen[0])
    assert len(panel["models"]) == PANEL_MODELS
    assert panel["models_more"] is True
    assert panel["models_url"] == f"/registry/models/?project={registry.seen[0].slug}"
    assert all(m.latest_version.number == 2 for m in panel["models"])
