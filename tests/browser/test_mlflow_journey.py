"""The MLflow bridge in Chromium: an administrator adds a real MLflow server and tests it; an owner claims a model.

The MLflow side is a real server (tests/integrations/conftest.py) and the unmodified client; the
model reaches Signet's intake list through the sync's one-model re-read, as a webhook would bring it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from apps.integrations.models import MlflowConnection
from apps.integrations.services.sync import sync_model
from tests.browser.people import sign_in, sign_out
from tests.factories import TeamFunction, make_project, make_user
from tests.integrations.conftest import mlflow_client, mlflow_session_server, register_version, unique_name

__all__ = ["mlflow_client", "mlflow_session_server", "unique_name"]  # fixtures this module uses

HOOK_ENV = "SIGNET_MLFLOW_JOURNEY_WEBHOOK_SECRET"


def administrator_adds_and_tests_a_connection(page: Page, base: str, url: str) -> None:
    sign_in(page, base, "ada")
    page.get_by_role("link", name="MLflow", exact=True).click()
    page.get_by_role("link", name="Add a connection").click()
    page.get_by_label("Name", exact=True).fill("lab")
    page.get_by_label("Tracking server").fill(url)
    page.get_by_label("Authentication").select_option("none")
    page.get_by_label("Webhook signing secret: environment variable").fill(HOOK_ENV)
    page.get_by_role("button", name="Add the connection").click()
    page.wait_for_url(re.compile(r"/integrations/connections/lab/$"))
    expect(page.get_by_text("Connection lab added.")).to_be_visible()
    expect(page.locator("#webhook-url")).to_have_text(re.compile(r"^https?://.+/api/v1/mlflow/lab/webhook/$"))
    expect(page.locator("#webhook-events")).to_contain_text("model_version_alias.created")

    page.get_by_role("button", name="Test connection").click()
    page.wait_for_url(re.compile(r"/integrations/connections/lab/$"))
    expect(page.get_by_text("Every check passed.")).to_be_visible()
    for check in ("reachable", "authenticated", "registry", "webhooks", "webhook secret"):
        expect(page.locator(f'#test-result [data-check="{check}"]')).to_contain_text("ok")
        expect(page.locator(f'#test-result [data-check="{check}"][data-ok="true"]')).to_have_count(1)
    sign_out(page)


def owner_claims_the_model(page: Page, base: str, name: str, project_name: str) -> None:
    sign_in(page, base, "olga")
    page.goto(f"{base}/projects/")
    page.get_by_role("link", name=project_name).click()
    page.locator("#mlflow-intake-link").get_by_role("link").click()
    page.wait_for_url(re.compile(r"/integrations/intake/$"))
    row = page.locator(f'tr[data-intake="{name}"]')
    expect(row).to_contain_text("1")  # one version
    row.get_by_label(f"Project for {name}").select_option(label=project_name)
    row.get_by_role("button", name=f"Claim {name}").click()
    page.wait_for_url(re.compile(r"/registry/models/\d+/$"))
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(page.get_by_text(f"{name} is now governed in {project_name}")).to_be_visible()
    expect(page.locator("#mlflow-aliases")).to_contain_text("on the connection lab")
    expect(page.get_by_role("link", name="v1")).to_be_visible()

    # The model is in the project now.
    page.get_by_role("link", name=project_name).click()
    expect(page.get_by_role("link", name=name, exact=True).first).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_administrator_connects_mlflow_and_an_owner_claims_a_model(
    live_server: LiveServer, page: Page, mlflow, mlflow_client, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOOK_ENV, "a-signing-secret-of-the-journey")
    make_user("ada", superuser=True)
    owner = make_user("olga", TeamFunction.BUSINESS)
    project = make_project(owner, name="Churn prediction")
    base = live_server.url

    administrator_adds_and_tests_a_connection(page, base, mlflow.url)

    # A data scientist registers a model in MLflow without the project tag: it waits in the intake list.
    register_version(mlflow_client, unique_name)
    assert sync_model(MlflowConnection.objects.get(name="lab"), unique_name) is not None

    owner_claims_the_model(page, base, unique_name, project.name)
