"""MLflow aliases on the model page and the portfolio, and the MLflow side of a version on its page.

The mirror rows (what the reconcile writes) are made directly here: these tests are about what the
pages show of them; tests/integrations of the sync part show that a real server fills them.
"""

from __future__ import annotations

import pytest
from django.test import Client

from apps.integrations.models import MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.selectors import portfolio_models
from apps.integrations.services.connections import connection_create
from apps.registry import services as registry
from apps.registry.models import ModelVersion, RegisteredModel
from apps.workflows import services as workflows
from apps.workflows.gate import gate_check
from tests.conftest import bearer
from tests.factories import TeamFunction, make_project, make_user
from tests.workflows.conftest import FULL_CARD, Flow

pytestmark = pytest.mark.django_db


def _connection(admin) -> MlflowConnection:
    return connection_create(
        actor=admin, name="lab", url="https://mlflow.example.test", webhook_secret_env="SIGNET_MLFLOW_LAB_HOOK"
    )


def _mirror(connection: MlflowConnection, model: RegisteredModel, version: ModelVersion, **aliases: int) -> MlflowModel:
    """MLflow's ``model.name`` governed by ``model``; MLflow version 3 is ``version``; ``aliases`` alias -> number."""
    mirror = MlflowModel.objects.create(connection=connection, name=model.name, model=model)
    MlflowVersion.objects.create(mlflow_model=mirror, number=3, version=version, source="models:/m-1")
    for alias, number in aliases.items():
        MlflowAlias.objects.create(mlflow_model=mirror, alias=alias, number=number)
    return mirror


def _approve(flow: Flow) -> None:
    review = flow.submit()
    flow.decide(flow.validator, review)


def _page(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def test_the_model_page_shows_where_each_alias_points_and_whether_an_approval_backs_it() -> None:
    flow = Flow("low")
    _mirror(_connection(flow.administrator), flow.model, flow.version, champion=3, challenger=4)
    url = f"/registry/models/{flow.model.pk}/"
    html = _page(flow.developer, url)
    assert 'id="mlflow-aliases"' in html
    assert "on the connection lab" in html
    assert 'data-alias="champion" data-backed="false"' in html
    assert "yes, deploys to production" in html
    assert "no: unapproved" in html
    assert "pd-model v1 is draft, not approved." in html
    assert 'data-alias="challenger" data-backed="false"' in html
    assert "pd-model v4 is not in Signet&#x27;s mirror of MLflow" in html

    _approve(flow)
    html = _page(flow.developer, url)
    assert 'data-alias="champion" data-backed="true"' in html
    assert "no: unapproved" not in html


def test_a_model_outside_mlflow_has_no_mlflow_section() -> None:
    flow = Flow("low")
    assert 'id="mlflow-aliases"' not in _page(flow.developer, f"/registry/models/{flow.model.pk}/")
    assert 'id="mlflow-version"' not in _page(flow.developer, f"/registry/versions/{flow.version.pk}/")


def test_the_version_page_shows_what_mlflow_holds_of_the_version() -> None:
    flow = Flow("low")
    mirror = _mirror(_connection(flow.administrator), flow.model, flow.version, champion=3)
    MlflowVersion.objects.filter(mlflow_model=mirror).update(
        run_id="0123abcd",
        run={
            "params": {"C": "0.5"},
            "metrics": {"auc": 0.91},
            "datasets": [{"name": "loans-2026", "digest": "d1g3st", "context": "training"}],
            "git_commit": "f00dcafe",
        },
        artifact_state="hashed",
        artifact_sha256="a" * 64,
        written_tags={"signet.status": "draft"},
    )
    html = _page(flow.developer, f"/registry/versions/{flow.version.pk}/")
    for shown in (
        'id="mlflow-version"',
        "models:/m-1",
        "0123abcd",
        "f00dcafe",
        "C=0.5",
        "auc=0.91",
        "loans-2026 (training)",
        "d1g3st",
        "a" * 64,
        "signet.status=draft",
        "@champion",
    ):
        assert shown in html, shown


def test_the_portfolio_flags_a_protected_alias_on_an_unapproved_version() -> None:
    flow = Flow("low")
    _mirror(_connection(flow.administrator), flow.model, flow.version, champion=3, staging=3)
    html = _page(flow.compliance, "/portfolio/")
    assert 'data-mlflow-model="pd-model"' in html
    assert "@champion → v3 (protected)" in html
    assert "@staging → v3" in html
    assert "@champion: pd-model v1 is draft, not approved." in html

    client = Client()
    client.force_login(flow.compliance)
    data = client.get("/api/v1/portfolio/").json()
    assert data["mlflow_models_count"] == 1
    (row,) = data["mlflow_models"]
    assert row["unapproved_alias"] is True
    assert row["project"] == flow.project.slug
    champion = next(a for a in row["aliases"] if a["alias"] == "champion")
    assert champion == {
        "alias": "champion",
        "mlflow_version": 3,
        "version": 1,
        "protected": True,
        "environment": "production",
        "backed": False,
        "unapproved": True,
        "reasons": ["pd-model v1 is draft, not approved."],
    }
    staging = next(a for a in row["aliases"] if a["alias"] == "staging")
    assert staging["protected"] is False
    assert staging["unapproved"] is False  # an alias nobody deploys from is shown, never flagged

    _approve(flow)
    assert client.get("/api/v1/portfolio/").json()["mlflow_models"][0]["unapproved_alias"] is False
    assert "unapproved-alias" not in _page(flow.compliance, "/portfolio/")


def _backed(version: ModelVersion) -> bool:
    rows, _count = portfolio_models(viewer=None, limit=10)  # type: ignore[arg-type]
    (state,) = [s for row in rows for s in vars(row)["alias_list"] if s.version_id == version.pk]
    return state.backed


def test_the_portfolio_reads_approvals_as_the_gate_does() -> None:
    """Draft, approved, stale after a card edit, approved again, then blocked by a high finding."""
    flow = Flow("low")
    _mirror(_connection(flow.administrator), flow.model, flow.version, champion=3)

    def agree() -> bool:
        gate = gate_check(version=flow.version, environment="production").allowed
        assert _backed(flow.version) is gate
        return gate

    assert agree() is False  # draft
    _approve(flow)
    assert agree() is True
    flow.version.refresh_from_db()
    registry.card_update(actor=flow.developer, card=flow.version.card, sections={**FULL_CARD, "limitations": "More."})
    assert agree() is False  # the evidence changed after approval
    workflows.finding_raise(
        actor=flow.validator,
        model=flow.model,
        version=flow.version,
        owner=flow.developer,
        kind="validation_issue",
        severity="high",
        title="Recall collapses",
    )
    assert agree() is False


def _grow(admin, owner, developer, connection: MlflowConnection, count: int, start: int) -> None:
    for i in range(start, start + count):
        project = make_project(owner, name=f"Project {i}", developer=developer)
        model = registry.model_create(actor=developer, project=project, name=f"mlflow-model-{i}", task="regression")
        version = registry.version_create(actor=developer, model=model)
        _mirror(connection, model, version, champion=3, challenger=4)


# Queries of one request with MLflow models (each with two aliases), the same for 1 and for 10 models:
# six more than without (the models, and alias_states_bulk's connections, aliases, mirrored versions,
# approvals, findings); once some version is approved, two more read its evidence (card revisions,
# failed runs), as many for 1 model as for 10.
PINNED = {"/portfolio/": 15, "/api/v1/portfolio/": 15}  # 14 and 14 before the monitoring tile counted (one query)


@pytest.mark.parametrize("rows", [1, 10])
@pytest.mark.parametrize("url", PINNED)
def test_the_portfolio_with_mlflow_models_runs_a_pinned_number_of_queries(
    url: str, rows: int, token_for, django_assert_num_queries
) -> None:
    admin = make_user("ada", superuser=True)
    owner = make_user("olivia", TeamFunction.BUSINESS)
    developer = make_user("devon", TeamFunction.DATA_SCIENCE)
    compliance = make_user("cora", TeamFunction.COMPLIANCE)
    _grow(admin, owner, developer, _connection(admin), rows, 0)
    client = Client(headers=bearer(token_for(compliance)))
    client.force_login(compliance)
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with django_assert_num_queries(PINNED[url]):
        response = client.get(url)
    assert response.status_code == 200
    assert f"mlflow-model-{rows - 1}".encode() in response.content, "every model is listed"


def test_the_portfolio_shows_its_mlflow_section_once_in_the_page_not_in_its_title() -> None:
    flow = Flow("low")
    page = _page(flow.compliance, "/portfolio/")
    assert "<title>Portfolio · Signet</title>" in page
    assert page.count('id="mlflow-models"') == 1
