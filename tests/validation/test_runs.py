"""Validation runs requested through the API: who may start one, what is refused, what is listed and shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from apps.audit.models import AuditEvent
from apps.validation import services
from apps.validation.models import ValidationRun
from tests.conftest import bearer, signed_in
from tests.validation.conftest import SUITE, evaluation_table, post_run
from tests.workflows.conftest import Flow


def test_a_run_created_through_the_api_answers_at_once_and_is_audited(flow: Flow, data, token_for) -> None:
    reference, current = data
    api = Client(headers=bearer(token_for(flow.developer)))
    response = post_run(api, version=flow.version.pk, reference=reference.pk, current=current.pk, spec=SUITE)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["progress"], body["results"]) == ("queued", 0, [])
    run = ValidationRun.objects.get()
    assert run.spec["checks"] == "standard"
    event = AuditEvent.objects.get(action="validation.run.created")
    assert event.data["version"] == flow.version.pk
    assert event.actor_id == flow.developer.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"spec": {"task": "astrology", "columns": {}, "checks": "standard"}}, "spec"),
        ({"spec": {"task": "binary_classification", "columns": {"target": 3}, "checks": "standard"}}, "spec"),
        ({"spec": "standard"}, "spec"),
        ({"reference": 999_999}, "reference"),
        ({"version": 999_999}, "version"),
        ({"current": "x"}, "current"),
        ({"suite": 424242}, "suite"),
        ({"spec": {"checks": [[[[[[[[[[]]]]]]]]]]}}, "spec"),
    ],
)
def test_bad_run_requests_are_400_with_a_reason_and_create_nothing(flow: Flow, data, token_for, payload, field) -> None:
    reference, current = data
    api = Client(headers=bearer(token_for(flow.developer)))
    request = {"version": flow.version.pk, "reference": reference.pk, "current": current.pk, "spec": SUITE, **payload}
    response = post_run(api, **request)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["details"]
    assert error["message"]
    assert not ValidationRun.objects.exists()


@pytest.mark.parametrize("who", ["business_owner", "it_ops", "compliance", "auditor"])
def test_only_builders_and_validators_start_runs(flow: Flow, data, token_for, who: str) -> None:
    reference, current = data
    api = Client(headers=bearer(token_for(flow.persona(who))))
    response = post_run(api, version=flow.version.pk, reference=reference.pk, current=current.pk)
    assert response.status_code == 403
    assert not ValidationRun.objects.exists()


def test_outsiders_neither_see_nor_start_runs(flow: Flow, data, token_for) -> None:
    reference, current = data
    run = services.run_create(
        actor=flow.validator, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    api = Client(headers=bearer(token_for(flow.outsider)))
    assert api.get(f"/api/v1/validation-runs/{run.pk}/").status_code == 404
    assert api.get("/api/v1/validation-runs/").json()["results"] == []
    assert post_run(api, version=flow.version.pk, reference=reference.pk, current=current.pk).status_code == 400
    assert signed_in(flow.outsider).get(f"/validation/runs/{run.pk}/").status_code == 404


def test_the_run_list_filters_by_version_and_refuses_what_is_not_an_id(flow: Flow, data, token_for) -> None:
    reference, current = data
    run = services.run_create(
        actor=flow.validator, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    api = Client(headers=bearer(token_for(flow.validator)))
    listed = api.get(f"/api/v1/validation-runs/?version={flow.version.pk}").json()["results"]
    assert [item["id"] for item in listed] == [run.pk]
    assert api.get(f"/api/v1/validation-runs/?version={2**63 - 1}").json()["results"] == []
    for hostile in ("²", "abc", str(2**63), "-1"):
        response = api.get("/api/v1/validation-runs/", {"version": hostile})
        assert response.status_code == 400, hostile
        assert response.json()["error"]["details"]["version"] == ["Give a version id."]


def test_data_of_another_project_or_only_linked_is_refused(flow: Flow, data, tmp_path: Path) -> None:
    from apps.registry import services as registry
    from tests.factories import make_project

    reference, _current = data
    other = make_project(flow.developer, name="Elsewhere")
    elsewhere = registry.dataset_create(actor=flow.developer, project=other, name="Other data")
    path = tmp_path / "x.parquet"
    import pyarrow.parquet as pq

    pq.write_table(evaluation_table(50), path)
    foreign = registry.dataset_version_upload(
        actor=flow.developer, dataset=elsewhere, path=path, original_name="x.parquet"
    )
    with pytest.raises(ValidationError, match="this version's project"):
        services.run_create(actor=flow.developer, version=flow.version, reference=reference, current=foreign)
    linked = registry.dataset_version_link(actor=flow.developer, dataset=flow.dataset, uri="s3://bucket/eval.parquet")
    with pytest.raises(ValidationError, match="only a link"):
        services.run_create(actor=flow.developer, version=flow.version, reference=reference, current=linked)
    with pytest.raises(PermissionDenied):
        services.run_create(actor=flow.it_ops, version=flow.version, reference=reference, current=reference)


def test_the_api_shows_results_in_the_contract_shape(flow: Flow, data, token_for) -> None:
    reference, current = data
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    services.run_execute(run.pk)
    body = Client(headers=bearer(token_for(flow.business_owner))).get(f"/api/v1/validation-runs/{run.pk}/").json()
    assert body["status"] in ("succeeded", "failed")
    keys = {"check", "metric", "column", "attribute", "group", "value", "status", "threshold", "message"}
    assert all(set(result) == keys for result in body["results"])
    groups = {r["group"] for r in body["results"] if r["check"] == "fairness" and r["metric"] == "selection_rate"}
    assert groups == {"a", "b", "c"}


def test_deeply_nested_json_is_a_400_not_a_crash(flow: Flow, data, token_for) -> None:
    reference, current = data
    api = Client(headers=bearer(token_for(flow.developer)))
    deep = "[" * 50_000 + "]" * 50_000
    body = f'{{"version": {flow.version.pk}, "reference": {reference.pk}, "current": {current.pk}, "spec": {deep}}}'
    response = api.post("/api/v1/validation-runs/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]
    page = signed_in(flow.developer).post(
        f"/validation/versions/{flow.version.pk}/runs/new/",
        {"reference": reference.pk, "current": current.pk, "spec": deep},
    )
    assert page.status_code == 400
    assert "nested too deeply" in page.content.decode()
    assert not ValidationRun.objects.exists()


def test_a_run_compares_two_different_datasets_and_takes_one_suite(flow: Flow, data) -> None:
    reference, current = data
    with pytest.raises(ValidationError, match="two different dataset versions"):
        services.run_create(actor=flow.developer, version=flow.version, reference=reference, current=reference)
    stored = services.suite_create(actor=flow.developer, project=flow.project, name="Stored", spec=SUITE)
    with pytest.raises(ValidationError, match="not both"):
        services.run_create(
            actor=flow.developer, version=flow.version, reference=reference, current=current, suite=stored, spec=SUITE
        )
    assert not ValidationRun.objects.exists()
