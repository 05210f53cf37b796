"""Every page and API operation of projects and the registry, for every persona.

Members see a project; auditors and administrators read it; everyone else gets 404, as if it did
not exist. An action a visible person may not take is 403. Anonymous visitors are sent to sign in
(pages) or get 401 (API).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from apps.registry import services as registry
from tests.conftest import PERSONAS, Org, bearer
from tests.factories import csv_bytes

MEMBERS = {"owner", "business_owner", "developer", "validator", "it_ops", "compliance"}
VISIBLE = MEMBERS | {"auditor", "administrator"}
EDITORS = {"owner", "business_owner"}
BUILDERS = {"owner", "developer"}
MANAGERS = {"owner", "administrator"}


@dataclass(frozen=True)
class Op:
    name: str
    method: str
    url: Callable[[Org], str]
    allowed: set[str]
    ok: int = 200
    data: Callable[[Org], Any] = field(default=lambda org: {})
    api: bool = False
    hidden: int = 404  # what a person who cannot see the project gets

    def __str__(self) -> str:
        return self.name


def _slug(org: Org) -> str:
    return org.project.slug


def _upload(org: Org) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"file": SimpleUploadedFile("data.csv", csv_bytes(), content_type="text/csv")}


def _dataset_version(org: Org) -> int:
    from pathlib import Path
    from tempfile import NamedTemporaryFile

    with NamedTemporaryFile(suffix=".csv", delete=False) as handle:
        handle.write(csv_bytes())
    version = registry.dataset_version_upload(
        actor=org.developer, dataset=org.dataset, path=Path(handle.name), original_name="d.csv"
    )
    Path(handle.name).unlink()
    return version.pk


def _kpi(org: Org) -> int:
    from decimal import Decimal

    from apps.projects import services as projects

    return projects.kpi_create(actor=org.owner, project=org.project, name="Uptake", target=Decimal("10")).pk


def _need(org: Org) -> int:
    from apps.projects import services as projects

    return projects.data_need_create(actor=org.owner, project=org.project, description="Bureau data").pk


ANSWERS = {
    "impact_on_people": "none",
    "automation": "human_decides",
    "regulatory_scope": "none",
    "data_sensitivity": "public",
    "scale": "small",
    "reversibility": "easy",
}
CARD = {"intended_use": "Scores credit line applications for underwriters."}

PAGE_OPS = [
    Op("project page", "get", lambda o: f"/projects/{_slug(o)}/", VISIBLE),
    Op("team page", "get", lambda o: f"/projects/{_slug(o)}/team/", VISIBLE),
    Op("risk page", "get", lambda o: f"/projects/{_slug(o)}/risk/", VISIBLE),
    Op("edit page", "get", lambda o: f"/projects/{_slug(o)}/edit/", EDITORS),
    Op(
        "edit project",
        "post",
        lambda o: f"/projects/{_slug(o)}/edit/",
        EDITORS,
        302,
        lambda o: {"name": "Renamed", "business_objective": "New aim", "status": "active"},
    ),
    Op(
        "add member",
        "post",
        lambda o: f"/projects/{_slug(o)}/team/",
        MANAGERS,
        302,
        lambda o: {"username": o.outsider.username, "role": "viewer"},
    ),
    Op("answer risk", "post", lambda o: f"/projects/{_slug(o)}/risk/", EDITORS, 302, lambda o: ANSWERS),
    Op(
        "add kpi",
        "post",
        lambda o: f"/projects/{_slug(o)}/kpis/",
        EDITORS,
        302,
        lambda o: {"name": "Uptake", "target": "10", "unit": "%", "direction": "higher"},
    ),
    Op(
        "add data need",
        "post",
        lambda o: f"/projects/{_slug(o)}/data-needs/",
        EDITORS | BUILDERS,
        302,
        lambda o: {"description": "Bureau data", "provider": "Bureau", "access_status": "needed"},
    ),
    Op(
        "remove member",
        "post",
        lambda o: f"/projects/{_slug(o)}/team/{o.project.memberships.get(role='validator').pk}/remove/",
        MANAGERS,
        302,
    ),
    Op(
        "record kpi value",
        "post",
        lambda o: f"/projects/{_slug(o)}/kpis/{_kpi(o)}/values/",
        EDITORS | BUILDERS,
        302,
        lambda o: {"value": "3.5"},
    ),
    Op(
        "update data need",
        "post",
        lambda o: f"/projects/{_slug(o)}/data-needs/{_need(o)}/",
        EDITORS | BUILDERS,
        302,
        lambda o: {"access_status": "granted"},
    ),
    Op("catalogue", "get", lambda o: "/registry/catalogue/?q=credit", set(PERSONAS), hidden=200),
    Op("models list", "get", lambda o: "/registry/models/", set(PERSONAS), hidden=200),
    Op("comment", "post", lambda o: f"/projects/{_slug(o)}/discussion/", MEMBERS, 302, lambda o: {"body": "Hello"}),
    Op("model page", "get", lambda o: f"/registry/models/{o.model.pk}/", VISIBLE),
    Op("version page", "get", lambda o: f"/registry/versions/{o.version.pk}/", VISIBLE),
    Op("dataset page", "get", lambda o: f"/registry/datasets/{o.dataset.pk}/", VISIBLE),
    Op("new model page", "get", lambda o: f"/registry/projects/{_slug(o)}/models/new/", BUILDERS),
    Op(
        "register model",
        "post",
        lambda o: f"/registry/projects/{_slug(o)}/models/new/",
        BUILDERS,
        302,
        lambda o: {"name": "second-model", "task": "regression", "description": "", "tags": "a, b"},
    ),
    Op("new version page", "get", lambda o: f"/registry/models/{o.model.pk}/versions/new/", BUILDERS),
    Op(
        "register version",
        "post",
        lambda o: f"/registry/models/{o.model.pk}/versions/new/",
        BUILDERS,
        302,
        lambda o: {"framework": "xgboost", "metrics": '{"auc": 0.8}'},
    ),
    Op("edit version page", "get", lambda o: f"/registry/versions/{o.version.pk}/edit/", BUILDERS),
    Op("card page", "get", lambda o: f"/registry/versions/{o.version.pk}/card/", BUILDERS),
    Op("write card", "post", lambda o: f"/registry/versions/{o.version.pk}/card/", BUILDERS, 302, lambda o: CARD),
    Op("new dataset page", "get", lambda o: f"/registry/projects/{_slug(o)}/datasets/new/", BUILDERS),
    Op(
        "add dataset",
        "post",
        lambda o: f"/registry/projects/{_slug(o)}/datasets/new/",
        BUILDERS,
        302,
        lambda o: {"name": "Second", "sensitivity": "internal"},
    ),
    Op(
        "edit version",
        "post",
        lambda o: f"/registry/versions/{o.version.pk}/edit/",
        BUILDERS,
        302,
        lambda o: {"framework": "lightgbm"},
    ),
    Op(
        "link dataset version",
        "post",
        lambda o: f"/registry/datasets/{o.dataset.pk}/link/",
        BUILDERS,
        302,
        lambda o: {"uri": "s3://bucket/data.csv"},
    ),
    Op("edit dataset page", "get", lambda o: f"/registry/datasets/{o.dataset.pk}/edit/", BUILDERS),
    Op(
        "edit dataset",
        "post",
        lambda o: f"/registry/datasets/{o.dataset.pk}/edit/",
        BUILDERS,
        302,
        lambda o: {"name": "Applications", "sensitivity": "restricted", "contains_personal_data": "on"},
    ),
    Op("upload dataset", "post", lambda o: f"/registry/datasets/{o.dataset.pk}/upload/", BUILDERS, 302, _upload),
    Op("download dataset", "get", lambda o: f"/registry/dataset-versions/{_dataset_version(o)}/download/", VISIBLE),
]

API_OPS = [
    Op("api project", "get", lambda o: f"/api/v1/projects/{_slug(o)}/", VISIBLE, api=True),
    Op(
        "api patch project",
        "patch",
        lambda o: f"/api/v1/projects/{_slug(o)}/",
        EDITORS,
        200,
        lambda o: {"status": "active"},
        api=True,
    ),
    Op("api members", "get", lambda o: f"/api/v1/projects/{_slug(o)}/members/", VISIBLE, api=True),
    Op(
        "api add member",
        "post",
        lambda o: f"/api/v1/projects/{_slug(o)}/members/",
        MANAGERS,
        201,
        lambda o: {"username": o.outsider.username, "role": "viewer"},
        api=True,
    ),
    Op(
        "api remove member",
        "delete",
        lambda o: f"/api/v1/projects/{_slug(o)}/members/?username={o.validator.username}&role=validator",
        MANAGERS,
        204,
        api=True,
    ),
    Op("api qualification", "get", lambda o: f"/api/v1/projects/{_slug(o)}/qualification/", VISIBLE, api=True),
    Op(
        "api answer risk",
        "put",
        lambda o: f"/api/v1/projects/{_slug(o)}/qualification/",
        EDITORS,
        200,
        lambda o: {"answers": ANSWERS},
        api=True,
    ),
    Op("api model", "get", lambda o: f"/api/v1/models/{o.model.pk}/", VISIBLE, api=True),
    Op(
        "api register model",
        "post",
        lambda o: "/api/v1/models/",
        BUILDERS,
        201,
        lambda o: {"project": _slug(o), "name": "api-model", "task": "regression"},
        api=True,
        hidden=400,  # a project named in a body that you cannot see is simply unknown
    ),
    Op(
        "api patch model",
        "patch",
        lambda o: f"/api/v1/models/{o.model.pk}/",
        BUILDERS,
        200,
        lambda o: {"description": "x"},
        api=True,
    ),
    Op("api versions", "get", lambda o: f"/api/v1/models/{o.model.pk}/versions/", VISIBLE, api=True),
    Op(
        "api register version",
        "post",
        lambda o: f"/api/v1/models/{o.model.pk}/versions/",
        BUILDERS,
        201,
        lambda o: {"framework": "xgboost"},
        api=True,
    ),
    Op("api version", "get", lambda o: f"/api/v1/versions/{o.version.pk}/", VISIBLE, api=True),
    Op(
        "api patch version",
        "patch",
        lambda o: f"/api/v1/versions/{o.version.pk}/",
        BUILDERS,
        200,
        lambda o: {"metrics": {"auc": 0.7}},
        api=True,
    ),
    Op("api card", "get", lambda o: f"/api/v1/versions/{o.version.pk}/card/", VISIBLE, api=True),
    Op(
        "api write card",
        "put",
        lambda o: f"/api/v1/versions/{o.version.pk}/card/",
        BUILDERS,
        200,
        lambda o: {"sections": CARD},
        api=True,
    ),
    Op(
        "api add dataset",
        "post",
        lambda o: "/api/v1/datasets/",
        BUILDERS,
        201,
        lambda o: {"project": _slug(o), "name": "API data"},
        api=True,
        hidden=400,
    ),
    Op("api dataset versions", "get", lambda o: f"/api/v1/datasets/{o.dataset.pk}/versions/", VISIBLE, api=True),
    Op(
        "api link dataset version",
        "post",
        lambda o: f"/api/v1/datasets/{o.dataset.pk}/versions/",
        BUILDERS,
        201,
        lambda o: {"uri": "s3://bucket/data.parquet"},
        api=True,
    ),
]


@pytest.fixture
def org(shared_org: Org) -> Org:
    return shared_org


def _call(client: Client, op: Op, org: Org, **extra: Any) -> int:
    url, data = op.url(org), op.data(org)
    send = getattr(client, op.method)
    if op.api:
        return (
            send(url, data, content_type="application/json", **extra).status_code
            if op.method != "get"
            else send(url, **extra).status_code
        )
    return (send(url, data) if op.method == "post" else send(url)).status_code


def _expected(op: Op, persona: str) -> int:
    if persona in op.allowed:
        return op.ok
    if persona in VISIBLE:
        return 403
    return op.hidden


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("op", PAGE_OPS, ids=str)
def test_pages_answer_each_persona_as_the_roles_say(org: Org, op: Op, persona: str) -> None:
    client = Client()
    client.force_login(org.persona(persona))
    assert _call(client, op, org) == _expected(op, persona)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("op", API_OPS, ids=str)
def test_api_answers_each_persona_as_the_roles_say(org: Org, op: Op, persona: str, token_for) -> None:
    client = Client(headers=bearer(token_for(org.persona(persona))))
    assert _call(client, op, org) == _expected(op, persona)


@pytest.mark.django_db
@pytest.mark.parametrize("op", PAGE_OPS + API_OPS, ids=str)
def test_anonymous_visitors_are_sent_to_sign_in_or_refused(org: Org, op: Op) -> None:
    status = _call(Client(), op, org)
    assert status == (401 if op.api else 302)


@pytest.mark.django_db
def test_a_refused_change_leaves_no_trace(org: Org) -> None:
    from apps.audit.models import AuditEvent
    from apps.projects.models import Project

    before = (AuditEvent.objects.count(), Project.objects.get().name)
    client = Client()
    client.force_login(org.validator)
    response = client.post(
        f"/projects/{org.project.slug}/edit/", {"name": "Hijacked", "business_objective": "x", "status": "retired"}
    )
    assert response.status_code == 403
    assert (AuditEvent.objects.count(), Project.objects.get().name) == before
