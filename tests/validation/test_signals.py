"""What validation tells the apps built on it without importing them: a signal and a page section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from apps.core import panels
from apps.validation import services
from apps.validation.choices import CheckStatus
from apps.validation.models import ValidationRun
from apps.validation.signals import scheduled_run_checked
from apps.workflows import services as workflows
from tests.validation.conftest import SUITE, evaluation_table, upload
from tests.workflows.conftest import Flow


def listening() -> tuple[list[dict[str, Any]], Any]:
    heard: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        heard.append({"sender": sender, "in_transaction": transaction.get_connection().in_atomic_block, **kwargs})

    scheduled_run_checked.connect(receiver, weak=False, dispatch_uid="tests.listening")
    return heard, receiver


def test_a_failed_scheduled_run_sends_scheduled_run_checked_with_the_run_and_its_counts(
    flow: Flow, data, tmp_path: Path
) -> None:
    reference, _current = data
    review = flow.submit()
    flow.decide(flow.validator, review)
    workflows.deployment_record(actor=flow.it_ops, version=flow.version, environment="production")
    services.suite_create(
        actor=flow.validator, project=flow.project, name="Monthly drift", spec=SUITE, model=flow.model,
        reference=reference, current_dataset=flow.dataset, schedule_hours=24,
    )  # fmt: skip
    upload(flow, evaluation_table(seed=9, shift=2.0), tmp_path, "production-sample.parquet")
    assert services.scheduled_runs() == 1
    run = ValidationRun.objects.get()
    heard, _receiver = listening()
    try:
        assert services.run_execute(run.pk) == "failed"
    finally:
        scheduled_run_checked.disconnect(dispatch_uid="tests.listening")
    assert len(heard) == 1
    assert heard[0]["sender"] is ValidationRun
    assert heard[0]["run"].pk == run.pk
    assert heard[0]["in_transaction"]  # the receiver's writes commit or roll back with the outcome
    counts = heard[0]["counts"]
    assert set(counts) == set(CheckStatus.values)
    assert counts["fail"] == run.results.filter(status="fail").count() > 0


def test_a_run_started_by_a_person_sends_no_scheduled_run_checked(flow: Flow, data) -> None:
    reference, current = data
    run = services.run_create(actor=flow.validator, version=flow.version, reference=reference, current=current)
    heard, _receiver = listening()
    try:
        services.run_execute(run.pk)
    finally:
        scheduled_run_checked.disconnect(dispatch_uid="tests.listening")
    assert heard == []


def test_the_version_page_gets_the_validation_section_through_core_panels(flow: Flow, data) -> None:
    reference, current = data
    run = services.run_create(actor=flow.validator, version=flow.version, reference=reference, current=current)
    section = panels.context_for("registry.version", user=flow.validator, version=flow.version)
    assert [listed.pk for listed in section["validation_runs"]] == [run.pk]
    assert section["can_validate"] is True
    assert (
        panels.context_for("registry.version", user=flow.business_owner, version=flow.version)["can_validate"] is False
    )
