"""Validation runs in the review cycle and on the pages: stale approvals, required runs, sign-off, the run page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.validation import services
from apps.validation.models import ValidationRun
from apps.workflows import services as workflows
from tests.conftest import signed_in
from tests.validation.conftest import SUITE, evaluation_table, upload
from tests.workflows.conftest import Flow


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
