"""Validation runs: created through the API and pages, executed (in-process here) through the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from sklearn.metrics import accuracy_score, roc_auc_score

from apps.audit.models import AuditEvent
from apps.notifications.models import Notification
from apps.validation import services
from apps.validation.models import CheckResult, ValidationRun
from apps.workflows import services as workflows
from tests.conftest import bearer, signed_in
from tests.validation.conftest import SUITE, evaluation_table, upload
from tests.workflows.conftest import Flow


def post_run(client: Client, **payload: object) -> Any:
    return client.post("/api/v1/validation-runs/", payload, content_type="application/json")


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


def test_a_run_records_the_engines_results_once_with_values_that_match_scikit_learn(flow: Flow, data) -> None:
    reference, current = data
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    status = services.run_execute(run.pk, worker="test")
    run.refresh_from_db()
    assert status == run.status
    assert run.status in ("succeeded", "failed")
    assert (run.progress, run.attempts, run.worker) == (100, 1, "test")
    table = evaluation_table(seed=2).to_pydict()
    stored = {(r.check_name, r.metric): r.value for r in run.results.filter(column="", group="", attribute="")}
    assert stored[("performance", "roc_auc")] == pytest.approx(
        roc_auc_score(table["y_true"], table["y_score"]), abs=1e-9
    )
    assert stored[("performance", "accuracy")] == pytest.approx(
        accuracy_score(table["y_true"], table["y_pred"]), abs=1e-9
    )
    assert run.curves["roc"][0] == [0.0, 0.0]
    assert run.curves["roc"][-1] == [1.0, 1.0]
    count = CheckResult.objects.filter(run=run).count()
    assert count > 10
    assert services.run_execute(run.pk, worker="again").startswith("not claimed")
    assert CheckResult.objects.filter(run=run).count() == count
    finished = AuditEvent.objects.get(action="validation.run.finished")
    assert (finished.actor_name, finished.data["outcome"]) == ("worker", run.outcome)
    assert Notification.objects.filter(recipient=flow.developer, event="validation.finished").exists()


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


def test_a_failing_run_after_approval_makes_the_approval_stale(flow: Flow, data, tmp_path: Path) -> None:
    reference, _current = data
    review = flow.submit()
    flow.decide(flow.validator, review)
    assert workflows.gate_check(version=flow.version, environment="production").allowed
    drifted = upload(flow, evaluation_table(seed=3, shift=2.0), tmp_path, "drifted.parquet")
    run = services.run_create(
        actor=flow.validator, version=flow.version, reference=reference, current=drifted, spec=SUITE
    )
    assert services.run_execute(run.pk) == "failed"
    answer = workflows.gate_check(version=flow.version, environment="production")
    assert not answer.allowed
    assert "stale" in answer.reasons[0]
    drift = run.results.filter(check_name="drift", metric="psi", status="fail")
    assert drift.exists()


def test_a_policy_can_require_a_passing_run_before_submission(flow: Flow, data, tmp_path: Path) -> None:
    policy = workflows.policy_in_force("low")
    workflows.policy_publish(
        actor=flow.compliance, tier="low", stages=policy.stages, review_period_days=730, requires_validation=True
    )
    with pytest.raises(ValidationError, match="passing validation run"):
        flow.submit()
    reference, current = data
    lenient = dict(SUITE, checks=[{"check": "quality", "metric": "row_count", "min": 1}])
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=lenient
    )
    assert services.run_execute(run.pk) == "succeeded"
    with pytest.raises(ValidationError, match="standard suite or a suite stored for the project"):
        flow.submit()  # an ad-hoc suite of one trivial check does not count
    stored = services.suite_create(actor=flow.validator, project=flow.project, name="Agreed checks", spec=lenient)
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, suite=stored
    )
    assert services.run_execute(run.pk) == "succeeded"
    assert flow.submit().cycle == 1


def test_a_file_damaged_on_disk_ends_the_run_as_error_with_a_reason(flow: Flow, data) -> None:
    reference, current = data
    Path(current.file.path).write_bytes(b"\x80\x03cos\nsystem\nq\x00X\x06\x00\x00\x00whoamiq\x01\x85q\x02Rq\x03.")
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    assert services.run_execute(run.pk) == "error"
    run.refresh_from_db()
    assert run.error
    assert "Traceback" not in run.error
    assert run.attempts == 1  # an unusable file is not retried
    assert not run.results.exists()


def test_a_run_that_exceeds_its_memory_limit_is_retried_then_given_up_with_a_reason(flow: Flow, data, settings) -> None:
    settings.SIGNET_VALIDATION_MEMORY_MB = 256  # below what the check process needs to start
    settings.SIGNET_VALIDATION_MAX_ATTEMPTS = 2
    reference, current = data
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    assert services.run_execute(run.pk) == "queued"
    assert services.run_execute(run.pk) == "error"
    run.refresh_from_db()
    assert run.attempts == 2
    assert "Gave up after 2 attempts" in run.error
    assert "MB" in run.error or "stopped unexpectedly" in run.error


def test_the_run_page_summarises_for_a_business_reader_and_exports(flow: Flow, data, tmp_path: Path) -> None:
    reference, _current = data
    drifted = upload(flow, evaluation_table(seed=3, shift=2.0), tmp_path, "drifted.parquet")
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=drifted, spec=SUITE
    )
    services.run_execute(run.pk)
    client = signed_in(flow.business_owner)
    page = client.get(f"/validation/runs/{run.pk}/").content.decode()
    assert "Did not pass" in page
    assert "Data drift (whether the current data still looks like the reference data)" in page
    assert 'aria-label="PSI per feature"' in page
    assert 'aria-label="ROC curve"' in page
    assert "Selection rate by group" in page
    exported = client.get(f"/validation/runs/{run.pk}/results.csv")
    assert exported["Content-Type"].startswith("text/csv")
    lines = b"".join(exported.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert lines[0] == "check,metric,column,attribute,group,value,status,threshold,message"
    assert len(lines) == run.results.count() + 1
    as_json = json.loads(client.get(f"/validation/runs/{run.pk}/results.json").content)
    assert as_json["status"] == "fail"
    assert len(as_json["results"]) == run.results.count()
    assert client.get(f"/validation/runs/{run.pk}/results.xml").status_code == 404


def test_the_progress_fragment_polls_until_the_run_is_done(flow: Flow, data) -> None:
    reference, current = data
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    client = signed_in(flow.developer)
    fragment = client.get(f"/validation/runs/{run.pk}/", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in fragment.content.decode()
    assert "Queued" in fragment.content.decode()
    services.run_execute(run.pk)
    done = client.get(f"/validation/runs/{run.pk}/", headers={"HX-Request": "true"})
    assert done.status_code == 204
    assert done["HX-Refresh"] == "true"


def test_starting_a_run_from_the_version_page(flow: Flow, data) -> None:
    reference, current = data
    client = signed_in(flow.developer)
    assert "Run validation checks" in client.get(f"/registry/versions/{flow.version.pk}/").content.decode()
    form = client.get(f"/validation/versions/{flow.version.pk}/runs/new/")
    assert form.status_code == 200
    bad = client.post(
        f"/validation/versions/{flow.version.pk}/runs/new/",
        {"reference": reference.pk, "current": current.pk, "spec": "{not json"},
    )
    assert bad.status_code == 400
    assert "This is not valid JSON" in bad.content.decode()
    wrong = client.post(
        f"/validation/versions/{flow.version.pk}/runs/new/",
        {
            "reference": reference.pk,
            "current": current.pk,
            "spec": json.dumps({"task": "binary_classification", "checks": 42}),
        },
    )
    assert wrong.status_code == 400
    assert not ValidationRun.objects.exists()
    started = client.post(
        f"/validation/versions/{flow.version.pk}/runs/new/",
        {"reference": reference.pk, "current": current.pk, "spec": json.dumps(SUITE)},
    )
    run = ValidationRun.objects.get()
    assert started["Location"] == f"/validation/runs/{run.pk}/"
    assert signed_in(flow.business_owner).get(f"/validation/versions/{flow.version.pk}/runs/new/").status_code == 403


def test_a_run_failing_mid_review_voids_earlier_approvals_and_the_same_people_may_decide_again(
    flow: Flow, data, tmp_path: Path
) -> None:
    policy = workflows.policy_in_force("low")
    stages = [dict(policy.stages[0], quorum=2)]
    workflows.policy_publish(actor=flow.compliance, tier="low", stages=stages, review_period_days=730)
    reference, _current = data
    review = flow.submit()
    flow.decide(flow.validator, review)
    drifted = upload(flow, evaluation_table(seed=3, shift=2.0), tmp_path, "drifted.parquet")
    run = services.run_create(
        actor=flow.validator2, version=flow.version, reference=reference, current=drifted, spec=SUITE
    )
    assert services.run_execute(run.pk) == "failed"
    flow.decide(flow.validator2, review)  # on the new evidence: vera's approval no longer counts
    review.refresh_from_db()
    assert review.status == "open"
    flow.decide(flow.validator, review)  # vera looks again, at the failed run, and approves
    review.refresh_from_db()
    assert review.status == "approved"
    assert review.decisions.filter(decider=flow.validator).count() == 2  # one per evidence digest


def test_whoever_provided_the_evaluation_data_this_cycle_cannot_sign_off(high_flow: Flow, tmp_path: Path) -> None:
    from apps.registry import services as registry
    from tests.validation.conftest import upload as upload_as_developer

    flow = high_flow
    reference = upload_as_developer(flow, evaluation_table(seed=1), tmp_path, "reference.parquet")
    path = tmp_path / "owner-sample.parquet"
    import pyarrow.parquet as pq

    pq.write_table(evaluation_table(seed=2), path)
    current = registry.dataset_version_upload(
        actor=flow.owner, dataset=flow.dataset, path=path, original_name=path.name
    )
    services.run_create(actor=flow.validator, version=flow.version, reference=reference, current=current, spec=SUITE)
    review = flow.submit()
    with pytest.raises(PermissionDenied, match="You provided the evaluation data of this version"):
        flow.decide(flow.owner, review)
    flow.decide(flow.business_owner, review)  # the business owner did not touch the data
    assert review.decisions.count() == 1


def test_a_run_over_its_time_limit_is_stopped_and_ends_as_an_error_with_the_reason(flow: Flow, data, settings) -> None:
    settings.SIGNET_VALIDATION_TIME_LIMIT_SECONDS = 0.2  # less than the check process needs to start
    settings.SIGNET_VALIDATION_MAX_ATTEMPTS = 1
    reference, current = data
    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    assert services.run_execute(run.pk) == "error"
    run.refresh_from_db()
    assert run.error == "The checks took longer than the 0.2 s a run may use. Gave up after 1 attempt."
    assert not run.results.exists()


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


def test_the_sweep_resends_lost_and_abandoned_runs_once_each(flow: Flow, data) -> None:
    from datetime import timedelta

    from django.utils import timezone

    reference, current = data
    fresh, lost, abandoned = (
        services.run_create(
            actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
        )
        for _ in range(3)
    )
    past = timezone.now() - timedelta(minutes=10)
    ValidationRun.objects.filter(pk=lost.pk).update(enqueued_at=past)
    ValidationRun.objects.filter(pk=abandoned.pk).update(
        status="running", enqueued_at=past, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.runs_sweep() == 2  # not the fresh one
    assert services.runs_sweep() == 0  # and not again until something changes
    assert ValidationRun.objects.get(pk=fresh.pk).status == "queued"


def test_group_values_holding_nul_are_stored_readably(flow: Flow, data, tmp_path: Path) -> None:
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

    reference, _current = data
    table = evaluation_table(seed=5)
    groups = [("b\x00x" if value == "b" else value) for value in table.column("group").to_pylist()]
    table = table.set_column(table.schema.get_field_index("group"), "group", pa.array(groups))
    current = upload(flow, table, tmp_path, "nul-groups.parquet")  # an uploaded file may hold NUL in its values
    run = services.run_create(
        actor=flow.validator, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    assert services.run_execute(run.pk) in ("succeeded", "failed")  # recorded, not stuck in "running"
    stored = set(CheckResult.objects.filter(run=run, attribute="group").values_list("group", flat=True))
    assert "b\ufffdx" in stored
    page = signed_in(flow.validator).get(f"/validation/runs/{run.pk}/")
    assert page.status_code == 200
    assert "b\ufffdx" in page.content.decode()
