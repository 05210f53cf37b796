"""The portfolio runs the same number of queries with 4N MLflow models as with N, and shows a page of them.

The MLflow bridge brings an organisation's whole registry: the page lists ``SHOWN`` models at a time
(a keyset, ``?mlflow_after=<id>``), and the next page costs what the first does.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.integrations.models import MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.services.connections import connection_create
from apps.portfolio.views import SHOWN
from apps.registry.models import ModelCard, ModelVersion, RegisteredModel
from tests.factories import TeamFunction, make_project, make_user

pytestmark = pytest.mark.django_db

N = 20  # 4N is more than a page


def _grow(connection_: MlflowConnection, project, developer, count: int, start: int) -> None:
    """``count`` governed MLflow models, each with a Signet version and two aliases (rows made directly)."""
    models = RegisteredModel.objects.bulk_create(
        RegisteredModel(project=project, name=f"mlflow-model-{i:03d}", task="regression", created_by=developer)
        for i in range(start, start + count)
    )
    versions = ModelVersion.objects.bulk_create(
        ModelVersion(model=model, number=1, created_by=developer) for model in models
    )
    ModelCard.objects.bulk_create(ModelCard(version=version) for version in versions)
    mirrors = MlflowModel.objects.bulk_create(
        MlflowModel(connection=connection_, name=model.name, model=model) for model in models
    )
    MlflowVersion.objects.bulk_create(
        MlflowVersion(mlflow_model=mirror, number=3, version=version)
        for mirror, version in zip(mirrors, versions, strict=True)
    )
    MlflowAlias.objects.bulk_create(
        MlflowAlias(mlflow_model=mirror, alias=alias, number=3) for mirror in mirrors for alias in ("champion", "b")
    )


def _get(client: Client, url: str) -> tuple[int, str]:
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured), response.content.decode()


def test_the_portfolio_costs_the_same_with_4n_mlflow_models_as_with_n_and_pages_them() -> None:
    admin = make_user("ada", superuser=True)
    owner = make_user("olivia", TeamFunction.BUSINESS)
    developer = make_user("devon", TeamFunction.DATA_SCIENCE)
    compliance = make_user("cora", TeamFunction.COMPLIANCE)  # reads the portfolio, is no administrator
    project = make_project(owner, developer=developer)
    lab = connection_create(
        actor=admin, name="lab", url="https://mlflow.example.test", webhook_secret_env="SIGNET_MLFLOW_LAB_HOOK"
    )
    client = Client()
    client.force_login(compliance)
    _grow(lab, project, developer, N, 0)
    first, _ = _get(client, "/portfolio/")
    _grow(lab, project, developer, 3 * N, N)
    again, page = _get(client, "/portfolio/")
    assert again == first
    assert page.count("data-mlflow-model=") == SHOWN
    assert f"of {4 * N}" in page
    after = re.search(r'href="\?mlflow_after=(\d+)#mlflow-models"', page)
    assert after is not None
    queries, second = _get(client, f"/portfolio/?mlflow_after={after[1]}")
    assert queries == first + 1  # the keyset reads the row it starts after
    shown = re.findall(r'data-mlflow-model="(mlflow-model-\d+)"', second)
    assert shown == [f"mlflow-model-{i:03d}" for i in range(SHOWN, 4 * N)]


@pytest.mark.parametrize("after", ["x", "0", "-1", "99999999"])
def test_a_bad_mlflow_page_marker_is_a_400_that_says_so(after: str) -> None:
    compliance = make_user("cora", TeamFunction.COMPLIANCE)
    client = Client()
    client.force_login(compliance)
    response = client.get(f"/portfolio/?mlflow_after={after}")
    assert response.status_code == 400
    assert b"mlflow_after" in response.content
