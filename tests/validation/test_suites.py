"""Stored suites and scheduled re-validation: a failure raises a finding and tells the owners."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.notifications.models import Notification
from apps.validation import services
from apps.validation.models import ValidationRun, ValidationSuite
from apps.workflows import services as workflows
from apps.workflows.models import Finding
from tests.conftest import bearer, signed_in
from tests.validation.conftest import SUITE, evaluation_table, upload
from tests.workflows.conftest import Flow


def deployed(flow: Flow) -> None:
    review = flow.submit()
    flow.decide(flow.validator, review)
    workflows.deployment_record(actor=flow.it_ops, version=flow.version, environment="production")


def test_a_scheduled_suite_revalidates_the_serving_version_and_a_failure_raises_a_finding(
    flow: Flow, data, tmp_path: Path
) -> None:
    reference, _current = data
    deployed(flow)
    suite = services.suite_create(
        actor=flow.validator, project=flow.project, name="Monthly drift", spec=SUITE, model=flow.model,
        reference=reference, current_dataset=flow.dataset, schedule_hours=24,
    )  # fmt: skip
    upload(flow, evaluation_table(seed=9, shift=2.0), tmp_path, "production-sample.parquet")  # the latest version
    assert services.scheduled_runs() == 1
    assert services.scheduled_runs() == 0  # not due again for 24 hours
    run = ValidationRun.objects.get()
    assert (run.trigger, run.version, run.created_by, run.suite) == ("schedule", flow.version, None, suite)
    assert services.run_execute(run.pk) == "failed"
    finding = Finding.objects.get()
    assert (finding.kind, finding.severity, finding.owner, finding.version) == (
        "validation_issue", "high", flow.owner, flow.version,
    )  # fmt: skip
    assert "drift psi" in finding.description
    assert Notification.objects.filter(recipient=flow.owner, event="finding.assigned").exists()
    assert Notification.objects.filter(recipient=flow.owner, event="validation.finished").exists()
    raised = AuditEvent.objects.get(action="workflows.finding.raised")
    assert raised.actor_name == "schedule"
    answer = workflows.gate_check(version=flow.version, environment="production")
    assert not answer.allowed
    assert services.scheduled_runs(now=timezone.now() + timedelta(hours=25)) == 1


def test_a_schedule_that_keeps_failing_keeps_one_finding_open(flow: Flow, data, tmp_path: Path) -> None:
    reference, _current = data
    deployed(flow)
    suite = services.suite_create(
        actor=flow.validator, project=flow.project, name="Weekly drift", spec=SUITE, model=flow.model,
        reference=reference, current_dataset=flow.dataset, schedule_hours=24,
    )  # fmt: skip
    upload(flow, evaluation_table(seed=9, shift=2.0), tmp_path, "drifted.parquet")
    later = timezone.now()
    for _ in range(3):
        assert services.scheduled_runs(now=later) == 1
        assert services.run_execute(ValidationRun.objects.latest("pk").pk) == "failed"
        later += timedelta(hours=25)
    finding = Finding.objects.get()
    assert finding.source == f"validation-suite:{suite.pk}:failed"
    assert Notification.objects.filter(recipient=flow.owner, event="validation.finished").count() == 3
    assert Notification.objects.filter(recipient=flow.owner, event="finding.assigned").count() == 1

    workflows.finding_update(actor=flow.validator, finding=finding, status="closed", reason="retrained")
    assert services.scheduled_runs(now=later) == 1
    assert services.run_execute(ValidationRun.objects.latest("pk").pk) == "failed"
    assert Finding.objects.filter(status="open").count() == 1  # a new one, the closed one stays closed
    assert Finding.objects.count() == 2
    assert AuditEvent.objects.filter(action="workflows.finding.raised").count() == 2


def test_a_scheduled_run_that_cannot_run_raises_a_medium_finding(flow: Flow, data, tmp_path: Path) -> None:
    reference, _current = data
    deployed(flow)
    services.suite_create(
        actor=flow.validator, project=flow.project, name="Nightly", spec=SUITE, model=flow.model,
        reference=reference, current_dataset=flow.dataset, schedule_hours=24,
    )  # fmt: skip
    upload(flow, evaluation_table(seed=3).drop_columns(["y_score"]), tmp_path, "no-scores.parquet")
    assert services.scheduled_runs() == 1
    run = ValidationRun.objects.get()
    assert services.run_execute(run.pk) == "error"
    run.refresh_from_db()
    finding = Finding.objects.get()
    assert (finding.severity, finding.owner, finding.version) == ("medium", flow.owner, flow.version)
    assert finding.title == "Scheduled validation could not run: Nightly"
    assert "y_score" in finding.description
    assert run.error in finding.description
    assert workflows.gate_check(version=flow.version, environment="production").allowed  # medium does not block


def test_checks_that_cannot_be_evaluated_raise_a_medium_finding_that_names_them(
    flow: Flow, data, tmp_path: Path
) -> None:
    reference, _current = data
    deployed(flow)
    spec = {**SUITE, "checks": [{"check": "performance", "metric": "roc_auc", "min": 0.6}]}
    services.suite_create(
        actor=flow.validator, project=flow.project, name="AUC only", spec=spec, model=flow.model,
        reference=reference, current_dataset=flow.dataset, schedule_hours=24,
    )  # fmt: skip
    one_class = evaluation_table(seed=4)
    one_class = one_class.set_column(one_class.schema.get_field_index("y_true"), "y_true", pa.array([1] * 2000))
    upload(flow, one_class, tmp_path, "one-class.parquet")
    assert services.scheduled_runs() == 1
    assert services.run_execute(ValidationRun.objects.get().pk) == "failed"  # an error result fails the run
    finding = Finding.objects.get()
    assert (finding.severity, finding.title) == (
        "medium",
        "Scheduled validation could not evaluate every check: AUC only",
    )
    assert "could not evaluate 1 check(s): performance roc_auc." in finding.description


def test_one_open_finding_per_source_is_kept_by_the_database(flow: Flow) -> None:
    from django.db import IntegrityError, transaction

    fields = {"model": flow.model, "version": flow.version, "kind": "validation_issue", "severity": "high",
              "title": "t", "owner": flow.owner, "raised_by": flow.validator}  # fmt: skip
    Finding.objects.create(**fields, source="validation-suite:1:failed")
    Finding.objects.create(**fields, source="validation-suite:1:error")
    Finding.objects.create(**fields, source="")
    Finding.objects.create(**fields, source="")  # people's findings are not limited
    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.create(**fields, source="validation-suite:1:failed")
    Finding.objects.create(**fields, source="validation-suite:1:failed", status="closed")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"spec": {"task": "binary_classification", "checks": "everything"}}, "spec"),
        ({"schedule_hours": 0}, "schedule_hours"),
        ({"schedule_hours": 24, "model": None}, "schedule_hours"),
    ],
)
def test_a_bad_suite_is_refused_with_a_reason(flow: Flow, data, changes, field) -> None:
    reference, _current = data
    values = {"name": "Drift", "spec": SUITE, "model": flow.model, "reference": reference,
              "current_dataset": flow.dataset, "schedule_hours": None, **changes}  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        services.suite_create(actor=flow.developer, project=flow.project, **values)
    assert field in refused.value.message_dict
    assert not ValidationSuite.objects.exists()


def test_suites_through_the_api_and_the_project_page(flow: Flow, data, token_for) -> None:
    reference, current = data
    api = Client(headers=bearer(token_for(flow.developer)))
    created = api.post(
        "/api/v1/validation-suites/",
        {"project": flow.project.slug, "name": "Fairness", "spec": SUITE},
        content_type="application/json",
    )
    assert created.status_code == 201
    duplicate = api.post(
        "/api/v1/validation-suites/",
        {"project": flow.project.slug, "name": "Fairness", "spec": SUITE},
        content_type="application/json",
    )
    assert duplicate.status_code == 400
    suite = ValidationSuite.objects.get()
    run = api.post(
        "/api/v1/validation-runs/",
        {"version": flow.version.pk, "reference": reference.pk, "current": current.pk, "suite": suite.pk},
        content_type="application/json",
    )
    assert run.status_code == 201
    assert run.json()["suite"] == "Fairness"
    page = signed_in(flow.business_owner).get(f"/validation/projects/{flow.project.slug}/suites/")
    assert "Fairness" in page.content.decode()
    assert "Store a suite" not in page.content.decode()  # the business owner reads, does not edit
    assert (
        signed_in(flow.business_owner)
        .post(f"/validation/projects/{flow.project.slug}/suites/", {"name": "x", "spec": "{}"})
        .status_code
        == 403
    )
    bad = signed_in(flow.developer).post(
        f"/validation/projects/{flow.project.slug}/suites/", {"name": "x", "spec": "[1,"}
    )
    assert bad.status_code == 400
    assert "This is not valid JSON" in bad.content.decode()


HOSTILE_SUITES = [
    ({**SUITE, "checks": [{"check": "quality", "metric": "row_count", "min": 10**400}]}, "must be a finite number"),
    ({**SUITE, "checks": [{"check": "quality", "metric": "row_count", "min": -(10**1000)}]}, "too large"),
    ({**SUITE, "positive_label": "yes\x00"}, "control character"),
    ({**SUITE, "columns": {"target": "y_true\x00", "prediction": "y_pred"}}, "control character"),
    ({**SUITE, "positive_label": 10**30}, "larger number"),
]


@pytest.mark.parametrize(("spec", "reason"), HOSTILE_SUITES)
def test_hostile_suites_are_refused_through_the_api_and_the_page(flow: Flow, data, token_for, spec, reason) -> None:
    import json

    api = Client(headers=bearer(token_for(flow.developer)))
    body = json.dumps({"project": flow.project.slug, "name": "Hostile", "spec": spec}, ensure_ascii=True)
    refused = api.post("/api/v1/validation-suites/", body, content_type="application/json")
    assert refused.status_code == 400
    assert reason in refused.json()["error"]["message"]
    reference, current = data
    run = json.dumps({"version": flow.version.pk, "reference": reference.pk, "current": current.pk, "spec": spec})
    assert api.post("/api/v1/validation-runs/", run, content_type="application/json").status_code == 400
    page = signed_in(flow.developer).post(
        f"/validation/projects/{flow.project.slug}/suites/", {"name": "Hostile", "spec": json.dumps(spec)}
    )
    assert page.status_code == 400
    assert not ValidationSuite.objects.exists()
    assert not ValidationRun.objects.exists()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("5", "A suite is a JSON object"),
        ("true", "A suite is a JSON object"),
        ("[1, 2]", "A suite is a JSON object"),
        ("1" * 5000, "too large to read"),  # json.loads refuses ints over 4,300 digits
        ("{" * 200_001, "at most 200,000 characters"),
    ],
)
def test_the_suite_form_refuses_text_that_is_not_a_suite(flow: Flow, text, reason) -> None:
    page = signed_in(flow.developer).post(
        f"/validation/projects/{flow.project.slug}/suites/", {"name": "x", "spec": text}
    )
    assert page.status_code == 400
    assert reason in page.content.decode()
    assert not ValidationSuite.objects.exists()


def test_a_number_too_long_to_read_in_the_body_is_a_400(flow: Flow, token_for) -> None:
    api = Client(headers=bearer(token_for(flow.developer)))
    check = '{"check": "quality", "metric": "row_count", "min": ' + "9" * 5000 + "}"  # over json.loads' 4,300 digits
    body = f'{{"project": "{flow.project.slug}", "name": "Long", "spec": {{"task": "other", "checks": [{check}]}}}}'
    refused = api.post("/api/v1/validation-suites/", body, content_type="application/json")
    assert refused.status_code == 400
    assert not ValidationSuite.objects.exists()


def test_no_run_is_scheduled_until_data_newer_than_the_reference_arrives(flow: Flow, data, tmp_path: Path) -> None:
    _reference, current = data  # `current` is the latest version of the flow's dataset
    deployed(flow)
    services.suite_create(
        actor=flow.validator, project=flow.project, name="Weekly", spec=SUITE, model=flow.model,
        reference=current, current_dataset=flow.dataset, schedule_hours=24,
    )  # fmt: skip
    assert services.scheduled_runs() == 0  # the latest data is the reference itself: nothing to compare
    upload(flow, evaluation_table(seed=11), tmp_path, "next-month.parquet")
    assert services.scheduled_runs(now=timezone.now() + timedelta(hours=25)) == 1
    assert ValidationRun.objects.get().reference == current
