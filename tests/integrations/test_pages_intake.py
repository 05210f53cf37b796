"""The intake list (page and API) and claims: an owner brings an MLflow model into their project.

Mirror rows are made directly (what a reconcile writes); the claim is the sync's ``model_claim``.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from apps.integrations.models import MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.services.connections import connection_create
from apps.registry.models import RegisteredModel
from tests.conftest import Org, bearer
from tests.factories import TeamFunction, make_project, make_user

pytestmark = pytest.mark.django_db


class Intake(Org):
    def __init__(self) -> None:
        super().__init__()
        self.connection = connection_create(
            actor=self.administrator,
            name="lab",
            url="https://mlflow.example.test",
            webhook_secret_env="SIGNET_MLFLOW_LAB_HOOK",
        )
        self.churn = MlflowModel.objects.create(
            connection=self.connection, name="churn", tags={"team": "growth"}, description="Who leaves"
        )
        for number in (1, 2):
            MlflowVersion.objects.create(
                mlflow_model=self.churn, number=number, source=f"models:/m-{number}", run_id=f"run{number}"
            )
        MlflowVersion.objects.create(mlflow_model=self.churn, number=3, deleted_at=timezone.now())
        # Not in the list: governed already, deleted in MLflow, or on a disabled connection.
        MlflowModel.objects.create(connection=self.connection, name="governed", model=self.model)
        MlflowModel.objects.create(connection=self.connection, name="gone", deleted_at=timezone.now())
        off = connection_create(
            actor=self.administrator,
            name="off",
            url="https://off.example.test",
            webhook_secret_env="SIGNET_MLFLOW_OFF_HOOK",
            enabled=False,
        )
        MlflowModel.objects.create(connection=off, name="sleeping")

    def client(self, user, token_for=None) -> Client:
        client = Client(headers=bearer(token_for(user))) if token_for else Client()
        client.force_login(user)
        return client


@pytest.fixture
def intake(db: None) -> Intake:
    return Intake()


def test_the_intake_list_shows_what_waits_and_nothing_else(intake: Intake, token_for) -> None:
    data = intake.client(intake.developer, token_for).get("/api/v1/mlflow/intake/").json()
    assert [(m["connection"], m["name"], m["version_count"], m["tags"]) for m in data["results"]] == [
        ("lab", "churn", 2, {"team": "growth"})
    ]
    assert set(data["results"][0]) == {"id", "connection", "name", "tags", "version_count", "seen_at"}
    html = intake.client(intake.validator).get("/integrations/intake/").content.decode()
    assert 'data-intake="churn"' in html
    for hidden in ("governed", "gone", "sleeping", "Who leaves", "models:/m-1", "run1"):
        assert hidden not in html, hidden
    assert "You own no project" in html


def test_an_owner_is_offered_their_own_projects_only(intake: Intake) -> None:
    other = make_project(intake.outsider, name="Elsewhere")
    html = intake.client(intake.owner).get("/integrations/intake/").content.decode()
    assert f'<option value="{intake.project.slug}">' in html
    assert other.slug not in html
    assert "Claim churn" in html


def test_an_owner_sees_on_the_project_page_what_waits(intake: Intake) -> None:
    url = f"/projects/{intake.project.slug}/"
    assert "1 MLflow model waits for a project" in intake.client(intake.owner).get(url).content.decode()
    assert 'id="mlflow-intake-link"' not in intake.client(intake.developer).get(url).content.decode()


def test_an_owner_claims_a_model_through_the_api(intake: Intake, token_for) -> None:
    api = intake.client(intake.owner, token_for)
    response = api.post(
        f"/api/v1/mlflow/intake/{intake.churn.pk}/claim/",
        {"project": intake.project.slug},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    model = RegisteredModel.objects.get(pk=body["model"])
    assert (body["project"], body["name"], model.project_id) == (intake.project.slug, "churn", intake.project.pk)
    assert sorted(model.versions.values_list("number", flat=True)) == [1, 2]
    assert MlflowModel.objects.get(pk=intake.churn.pk).model_id == model.pk
    assert api.get("/api/v1/mlflow/intake/").json()["results"] == []
    # Claimed once: the second claim finds nothing in the intake list.
    again = api.post(
        f"/api/v1/mlflow/intake/{intake.churn.pk}/claim/",
        {"project": intake.project.slug},
        content_type="application/json",
    )
    assert again.status_code == 404


def test_an_owner_claims_a_model_on_the_page_and_lands_on_it(intake: Intake) -> None:
    response = intake.client(intake.owner).post(
        f"/integrations/intake/{intake.churn.pk}/claim/", {"project": intake.project.slug}
    )
    model = RegisteredModel.objects.get(mlflow__pk=intake.churn.pk)
    assert response.status_code == 302
    assert response["Location"] == f"/registry/models/{model.pk}/"
    page = intake.client(intake.owner).get(response["Location"]).content.decode()
    assert 'id="mlflow-aliases"' in page


def _unclaimed(intake: Intake) -> tuple[object, ...]:
    churn = MlflowModel.objects.get(pk=intake.churn.pk)
    return churn.model_id, RegisteredModel.objects.count()


@pytest.mark.parametrize("who", ["developer", "validator", "business_owner", "administrator", "auditor"])
def test_claiming_into_a_project_you_do_not_own_is_refused(intake: Intake, token_for, who: str) -> None:
    before = _unclaimed(intake)
    person = intake.persona(who)
    response = intake.client(person, token_for).post(
        f"/api/v1/mlflow/intake/{intake.churn.pk}/claim/",
        {"project": intake.project.slug},
        content_type="application/json",
    )
    assert response.status_code == 403, response.content
    assert "owner" in response.json()["error"]["message"]
    page = intake.client(person).post(
        f"/integrations/intake/{intake.churn.pk}/claim/", {"project": intake.project.slug}
    )
    assert page.status_code == 403
    assert _unclaimed(intake) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"project": "no-such-project"}, "project"),
        ({"project": ""}, "project"),
        ({"project": 7}, "project"),
        ({}, "project"),
        ({"project": "credit-scoring", "model": "x"}, "model"),
    ],
)
def test_a_claim_into_a_missing_project_says_so(intake: Intake, token_for, body: dict, field: str) -> None:
    before = _unclaimed(intake)
    response = intake.client(intake.owner, token_for).post(
        f"/api/v1/mlflow/intake/{intake.churn.pk}/claim/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert _unclaimed(intake) == before


def test_a_project_the_claimer_cannot_see_is_missing_to_them(intake: Intake, token_for) -> None:
    hidden = make_project(make_user("hana", TeamFunction.BUSINESS), name="Hidden project")
    before = _unclaimed(intake)
    response = intake.client(intake.owner, token_for).post(
        f"/api/v1/mlflow/intake/{intake.churn.pk}/claim/", {"project": hidden.slug}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "There is no project with this slug that you can see."
    page = intake.client(intake.owner).post(
        f"/integrations/intake/{intake.churn.pk}/claim/", {"project": hidden.slug}, follow=True
    )
    assert "There is no project of that name that you can see." in page.content.decode()
    assert _unclaimed(intake) == before


def test_the_intake_is_for_signed_in_people(intake: Intake) -> None:
    assert Client().get("/api/v1/mlflow/intake/").status_code == 401
    assert Client().post(f"/api/v1/mlflow/intake/{intake.churn.pk}/claim/").status_code == 401
    assert Client().get("/integrations/intake/").status_code == 302
    assert MlflowConnection.objects.count() == 2
