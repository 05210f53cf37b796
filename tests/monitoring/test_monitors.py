"""Setting up a monitor: who may, what is checked, what the trail keeps; the API of monitors."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.audit.models import AuditEvent
from apps.monitoring import services
from apps.monitoring.models import Monitor
from apps.validation.models import ValidationRun
from tests.monitoring.conftest import SUITE, deployed
from tests.validation.conftest import evaluation_table, upload
from tests.workflows.conftest import Flow


@pytest.fixture
def ready(flow: Flow, tmp_path: Path):
    reference = upload(flow, evaluation_table(2000, seed=1), tmp_path, "reference.parquet")
    return flow, deployed(flow), reference


@pytest.mark.parametrize("persona", ["owner", "developer", "it_ops"])
def test_owners_developers_and_it_operations_set_up_a_monitor(ready, persona: str) -> None:
    flow, deployment, reference = ready
    monitor = services.monitor_create(
        actor=flow.persona(persona), deployment=deployment, name="prod", reference=reference, spec=SUITE
    )
    assert (monitor.version, monitor.window_sizes, monitor.breach_window) == (
        flow.version,
        ["hour", "day", "week"],
        "day",
    )
    assert monitor.reference_state["spec"]["columns"]["target"] == "y_true"
    event = AuditEvent.objects.get(action="monitoring.monitor.created", target_id=str(monitor.pk))
    assert event.actor_name == flow.persona(persona).username
    assert event.changes["name"] == [None, "prod"] or event.changes["name"]["after"] == "prod"


@pytest.mark.parametrize(
    "persona", ["business_owner", "validator", "compliance", "auditor", "administrator", "outsider"]
)
def test_nobody_else_sets_up_a_monitor(ready, persona: str) -> None:
    flow, deployment, reference = ready
    with pytest.raises(PermissionDenied):
        services.monitor_create(
            actor=flow.persona(persona), deployment=deployment, name="x", reference=reference, spec=SUITE
        )
    assert not Monitor.objects.exists()
    assert not AuditEvent.objects.filter(action="monitoring.monitor.created").exists()


def test_the_default_reference_and_suite_are_the_newest_passing_validation_run(ready) -> None:
    flow, deployment, reference = ready
    current = upload(flow, evaluation_table(1500, seed=3), Path(reference.file.path).parent, "evaluation.parquet")
    ValidationRun.objects.create(
        version=flow.version,
        spec=SUITE,
        reference=reference,
        current=current,
        status="succeeded",
        created_by=flow.developer,
    )
    monitor = services.monitor_create(actor=flow.developer, deployment=deployment, name="prod")
    assert monitor.reference == current
    assert monitor.spec["columns"]["numeric"] == ["f0", "f1"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {
                "spec": {
                    "task": "binary_classification",
                    "columns": {"target": "y_true", "numeric": ["nope"]},
                    "checks": "standard",
                }
            },
            "reference",
        ),
        ({"spec": {"task": "astrology"}}, "spec"),
        ({"window_sizes": ["month"]}, "window_sizes"),
        ({"window_sizes": ["hour"], "breach_window": "day"}, "breach_window"),
        ({"notify_roles": ["everyone"]}, "notify_roles"),
        ({"id_column": "timestamp"}, "id_column"),
    ],
)
def test_a_monitor_that_cannot_work_is_refused_with_its_reason(ready, changes: dict, field: str) -> None:
    flow, deployment, reference = ready
    arguments = {"deployment": deployment, "name": "prod", "reference": reference, "spec": SUITE, **changes}
    with pytest.raises(ValidationError) as refused:
        services.monitor_create(actor=flow.developer, **arguments)
    assert field in refused.value.message_dict, refused.value.message_dict
    assert not Monitor.objects.exists()


def test_without_a_passing_run_a_reference_must_be_chosen(ready) -> None:
    flow, deployment, _reference = ready
    with pytest.raises(ValidationError, match="no passing validation run"):
        services.monitor_create(actor=flow.developer, deployment=deployment, name="prod")


def test_two_monitors_of_one_deployment_have_two_names(ready) -> None:
    flow, deployment, reference = ready
    services.monitor_create(actor=flow.developer, deployment=deployment, name="prod", reference=reference, spec=SUITE)
    with pytest.raises(ValidationError, match="already has a monitor"):
        services.monitor_create(
            actor=flow.developer, deployment=deployment, name="prod", reference=reference, spec=SUITE
        )


def test_the_api_creates_lists_and_shows_monitors_to_those_who_see_the_project(ready, api) -> None:
    flow, deployment, reference = ready
    body = {"deployment": deployment.pk, "name": "prod", "reference": reference.pk, "spec": SUITE,
            "gate_blocking": True, "expected_interval_minutes": 60, "window_sizes": ["day", "week"]}  # fmt: skip
    created = api(flow.it_ops).post("/api/v1/monitors/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    monitor = created.json()
    assert (monitor["model"], monitor["environment"], monitor["gate_blocking"]) == ("pd-model", "production", True)
    listed = api(flow.validator).get(f"/api/v1/monitors/?version={flow.version.pk}").json()["results"]
    assert [m["id"] for m in listed] == [monitor["id"]]
    assert api(flow.auditor).get(f"/api/v1/monitors/{monitor['id']}/").json()["name"] == "prod"
    assert api(flow.outsider).get("/api/v1/monitors/").json()["results"] == []
    assert api(flow.outsider).get(f"/api/v1/monitors/{monitor['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "x"}, 400),
        ({"deployment": "1", "name": "x"}, 400),
        ({"deployment": 999999, "name": "x"}, 400),
        ({"deployment": None, "name": "x", "gate_blocking": "yes"}, 400),
    ],
)
def test_the_api_refuses_a_bad_monitor_request(ready, api, body: dict, status: int) -> None:
    flow, _deployment, _reference = ready
    response = api(flow.developer).post("/api/v1/monitors/", body, content_type="application/json")
    assert response.status_code == status, response.content
    assert response.json()["error"]["message"]
    assert not Monitor.objects.exists()


def test_the_api_refuses_a_business_owner_with_403(ready, api) -> None:
    flow, deployment, reference = ready
    body = {"deployment": deployment.pk, "name": "prod", "reference": reference.pk, "spec": SUITE}
    response = api(flow.business_owner).post("/api/v1/monitors/", body, content_type="application/json")
    assert response.status_code == 403, response.content
