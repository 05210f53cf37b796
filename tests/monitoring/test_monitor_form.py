"""Setting up a monitor in the browser's form: who may, what is refused (a 400 with the form), what the trail keeps."""

from __future__ import annotations

import json
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.monitoring.models import Monitor
from apps.validation.models import ValidationRun, ValidationSuite
from apps.workflows import services as workflows
from tests.conftest import signed_in
from tests.factories import PASSWORD
from tests.monitoring.conftest import SUITE, deployed
from tests.validation.conftest import evaluation_table, upload
from tests.workflows.conftest import Flow

CREATED = "monitoring.monitor.created"


class Ready:
    """A deployed version of the flow's project with a reference dataset uploaded (no validation run yet)."""

    def __init__(self, flow: Flow, folder: Path) -> None:
        self.flow = flow
        self.folder = folder
        self.reference = upload(flow, evaluation_table(2000, seed=1), folder, "reference.parquet")
        self.deployment = deployed(flow)
        self.url = f"/monitoring/deployments/{self.deployment.pk}/monitors/new/"

    def body(self, **changes: Any) -> dict[str, Any]:
        """The form as a person fills it in: a reference chosen and the suite written as JSON."""
        body: dict[str, Any] = {
            "name": "production",
            "reference": str(self.reference.pk),
            "suite": "",
            "spec": json.dumps(SUITE),
            "window_sizes": ["hour", "day", "week"],
            "breach_window": "day",
            "notify_roles": ["owner", "developer"],
            "gate_blocking": "on",
            "expected_interval_minutes": "60",
            "retention_days": "30",
            "outcome_lookback_days": "14",
            "id_column": "prediction_id",
            "timestamp_column": "timestamp",
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}

    def passing_run(self) -> ValidationRun:
        current = upload(self.flow, evaluation_table(1500, seed=3), self.folder, "evaluation.parquet")
        return ValidationRun.objects.create(
            version=self.flow.version,
            spec=SUITE,
            reference=self.reference,
            current=current,
            status="succeeded",
            created_by=self.flow.developer,
        )


@pytest.fixture
def ready(flow: Flow, tmp_path: Path) -> Ready:
    return Ready(flow, tmp_path)


def nothing_created() -> bool:
    return not Monitor.objects.exists() and not AuditEvent.objects.filter(action=CREATED).exists()


def test_a_developer_sets_up_a_monitor_and_lands_on_its_page(ready: Ready) -> None:
    client = signed_in(ready.flow.developer)
    form = client.get(ready.url)
    assert form.status_code == 200
    assert "Set up the monitor" in form.content.decode()
    response = client.post(ready.url, ready.body())
    monitor = Monitor.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/monitoring/monitors/{monitor.pk}/"
    assert (monitor.deployment, monitor.version, monitor.reference) == (
        ready.deployment,
        ready.flow.version,
        ready.reference,
    )
    assert monitor.spec["columns"]["numeric"] == ["f0", "f1"]
    assert (monitor.window_sizes, monitor.breach_window, monitor.notify_roles) == (
        ["hour", "day", "week"],
        "day",
        ["owner", "developer"],
    )
    assert (monitor.gate_blocking, monitor.expected_interval_minutes) == (True, 60)
    assert (monitor.retention_days, monitor.outcome_lookback_days) == (30, 14)
    assert monitor.created_by == ready.flow.developer
    page = client.get(response["Location"])
    assert "Monitor production set up" in page.content.decode()


def test_the_audit_trail_records_who_set_up_the_monitor_from_the_page(ready: Ready) -> None:
    signed_in(ready.flow.it_ops).post(ready.url, ready.body(name="shadow", gate_blocking=None))
    monitor = Monitor.objects.get()
    event = AuditEvent.objects.get(action=CREATED)
    assert (event.actor_name, event.auth_method, event.target_id) == ("ike", "session", str(monitor.pk))
    assert (event.project_pk, event.target_type) == (ready.flow.project.pk, "monitoring.monitor")
    assert event.data == {"version": ready.flow.version.pk, "environment": "production"}
    assert "shadow" in json.dumps(event.changes)
    assert monitor.gate_blocking is False


def test_left_empty_the_reference_and_suite_are_the_newest_passing_validation_runs(ready: Ready) -> None:
    run = ready.passing_run()
    client = signed_in(ready.flow.owner)
    page = client.get(ready.url).content.decode()
    assert f"validation run {run.pk}</a>, the newest that passed" in page
    response = client.post(ready.url, ready.body(reference="", spec=""))
    assert response.status_code == 302, response.content.decode()
    monitor = Monitor.objects.get()
    assert monitor.reference == run.current
    assert monitor.spec["columns"]["categorical"] == ["c0"]


def test_a_stored_suite_of_the_project_may_be_chosen(ready: Ready) -> None:
    drift_only = dict(SUITE, checks=[{"check": "drift", "metric": "psi", "max": 0.2}])
    suite = ValidationSuite.objects.create(
        project=ready.flow.project, name="Drift only", spec=drift_only, created_by=ready.flow.developer
    )
    response = signed_in(ready.flow.developer).post(ready.url, ready.body(spec="", suite=str(suite.pk)))
    assert response.status_code == 302, response.content.decode()
    assert Monitor.objects.get().spec["checks"] == [{"check": "drift", "metric": "psi", "max": 0.2}]


UNKNOWN_COLUMN = {
    "task": "binary_classification",
    "columns": {"target": "y_true", "numeric": ["nope"]},
    "checks": "standard",
}
HOSTILE = [
    ({"name": ""}, "This field is required"),
    ({"name": "x" * 121}, "at most 120 characters"),
    ({"name": "prod\x00uction"}, "Null characters are not allowed"),
    ({"spec": "{" * 200_001}, "A suite is at most 200,000 characters"),
    ({"spec": "[" * 5000 + "]" * 5000}, "nested too deeply"),
    ({"window_sizes": ["month"]}, "Select a valid choice"),
    ({"window_sizes": []}, "Choose at least one window size"),
    ({"window_sizes": ["day"], "breach_window": "hour"}, "Breaches are judged on one of the monitor"),
    ({"breach_window": "fortnight"}, "Select a valid choice"),
    ({"notify_roles": ["everyone"]}, "Select a valid choice"),
    ({"reference": "999999"}, "Select a valid choice"),
    ({"reference": "1 OR 1=1"}, "Select a valid choice"),
    ({"suite": "999999", "spec": ""}, "Select a valid choice"),
    ({"spec": "{nope"}, "This is not valid JSON"),
    ({"spec": "[1, 2]"}, "A suite is a JSON object"),
    ({"spec": json.dumps({"task": "astrology"})}, "astrology"),
    ({"spec": json.dumps(UNKNOWN_COLUMN)}, "nope"),
    ({"expected_interval_minutes": "0"}, "greater than or equal to 1"),
    ({"expected_interval_minutes": "-5"}, "greater than or equal to 1"),
    ({"expected_interval_minutes": "ten"}, "Enter a whole number"),
    ({"expected_interval_minutes": "9" * 30}, "less than or equal to"),
    ({"retention_days": "0"}, "greater than or equal to 1"),
    ({"retention_days": ""}, "This field is required"),
    ({"id_column": "timestamp"}, "Name two different columns"),
    ({"timestamp_column": "   "}, "This field is required"),
]


@pytest.mark.parametrize(("changes", "message"), HOSTILE)
def test_a_monitor_that_cannot_work_is_a_400_with_the_form_and_its_reason(
    ready: Ready, changes: dict[str, Any], message: str
) -> None:
    response = signed_in(ready.flow.developer).post(ready.url, ready.body(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html, html[html.find("field-error") - 300 :][:1200]
    assert 'name="csrfmiddlewaretoken"' in html  # the form is shown again, to be corrected
    assert nothing_created()


def test_without_a_passing_run_the_reference_and_suite_must_be_chosen(ready: Ready) -> None:
    client = signed_in(ready.flow.developer)
    assert "This version has no passing validation run" in client.get(ready.url).content.decode()
    response = client.post(ready.url, ready.body(reference="", spec=""))
    assert response.status_code == 400
    assert "no passing validation run; choose a reference dataset and a suite" in response.content.decode()
    assert nothing_created()


def test_a_stored_suite_and_a_written_one_together_are_refused(ready: Ready) -> None:
    suite = ValidationSuite.objects.create(
        project=ready.flow.project, name="Standard", spec=SUITE, created_by=ready.flow.developer
    )
    response = signed_in(ready.flow.developer).post(ready.url, ready.body(suite=str(suite.pk)))
    assert response.status_code == 400
    assert "Choose a stored suite or write one as JSON, not both." in response.content.decode()
    assert nothing_created()


def test_a_second_monitor_with_the_same_name_is_refused_and_the_first_stays(ready: Ready) -> None:
    client = signed_in(ready.flow.developer)
    assert client.post(ready.url, ready.body()).status_code == 302
    response = client.post(ready.url, ready.body(gate_blocking=None))
    assert response.status_code == 400
    assert "This deployment already has a monitor with this name." in response.content.decode()
    assert Monitor.objects.get().gate_blocking is True
    assert AuditEvent.objects.filter(action=CREATED).count() == 1


def test_a_retired_version_is_not_monitored(ready: Ready) -> None:
    workflows.version_retire(actor=ready.flow.it_ops, version=ready.flow.version, reason="Replaced by v2.")
    client = signed_in(ready.flow.developer)
    assert "This version is not deployed now" in client.get(ready.url).content.decode()
    response = client.post(ready.url, ready.body())
    assert response.status_code == 400
    assert "Monitor a version that is deployed now." in response.content.decode()
    assert nothing_created()


@pytest.mark.parametrize("persona", ["business_owner", "validator", "compliance", "auditor", "administrator"])
def test_people_who_see_the_project_but_may_not_set_up_monitors_get_a_403(ready: Ready, persona: str) -> None:
    client = signed_in(ready.flow.persona(persona))
    page = client.get(ready.url)
    assert page.status_code == 403
    assert "Only the project's owners, developers and IT operations set up monitors." in unescape(page.content.decode())
    assert client.post(ready.url, ready.body()).status_code == 403
    assert nothing_created()


def test_an_outsider_learns_nothing_of_the_deployment(ready: Ready) -> None:
    client = signed_in(ready.flow.outsider)
    assert client.get(ready.url).status_code == 404
    assert client.post(ready.url, ready.body()).status_code == 404
    assert signed_in(ready.flow.developer).get("/monitoring/deployments/999999/monitors/new/").status_code == 404
    assert nothing_created()


def test_signed_out_the_form_sends_to_the_sign_in_page(ready: Ready) -> None:
    response = Client().post(ready.url, ready.body())
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")
    assert nothing_created()


def test_a_post_without_the_csrf_token_is_refused(ready: Ready) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/sign-in/")
    signed = client.post(
        "/accounts/sign-in/",
        {"username": "devon", "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
    )
    assert signed.status_code == 302
    assert client.post(ready.url, ready.body()).status_code == 403
    assert nothing_created()


@pytest.mark.parametrize("persona", ["owner", "developer", "it_ops"])
def test_the_version_page_offers_the_form_to_those_who_may_use_it(ready: Ready, persona: str) -> None:
    html = signed_in(ready.flow.persona(persona)).get(f"/registry/versions/{ready.flow.version.pk}/").content.decode()
    assert f'href="{ready.url}"' in html
    assert "of the deployment to production" in html


@pytest.mark.parametrize("persona", ["business_owner", "validator", "auditor"])
def test_the_version_page_does_not_offer_the_form_to_others(ready: Ready, persona: str) -> None:
    html = signed_in(ready.flow.persona(persona)).get(f"/registry/versions/{ready.flow.version.pk}/").content.decode()
    assert "/monitors/new/" not in html


def test_a_version_deployed_twice_to_one_environment_offers_its_latest_deployment_once(ready: Ready) -> None:
    again = workflows.deployment_record(actor=ready.flow.it_ops, version=ready.flow.version, environment="production")
    staging = workflows.deployment_record(actor=ready.flow.it_ops, version=ready.flow.version, environment="staging")
    html = signed_in(ready.flow.developer).get(f"/registry/versions/{ready.flow.version.pk}/").content.decode()
    assert html.count("/monitors/new/") == 2
    assert f"/monitoring/deployments/{again.pk}/monitors/new/" in html
    assert f"/monitoring/deployments/{staging.pk}/monitors/new/" in html


@pytest.mark.parametrize("deployment_id", ["0", "99999999999999999999999"])
def test_a_deployment_id_that_cannot_exist_is_a_404(ready: Ready, deployment_id: str) -> None:
    client = signed_in(ready.flow.developer)
    assert client.get(f"/monitoring/deployments/{deployment_id}/monitors/new/").status_code == 404
    assert client.post(f"/monitoring/deployments/{deployment_id}/monitors/new/", ready.body()).status_code == 404
    assert client.get(f"/monitoring/monitors/{deployment_id}/").status_code == 404
    assert nothing_created()
