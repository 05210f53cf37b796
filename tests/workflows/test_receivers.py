"""The workflows react to other apps without those apps importing them: signals and page sections."""

from __future__ import annotations

import pytest

from apps.core import panels
from apps.registry.models import ModelVersion
from apps.validation import services as validation
from apps.validation.models import ValidationRun
from apps.validation.signals import scheduled_run_checked
from apps.workflows.models import Finding
from tests.validation.conftest import SUITE, data  # noqa: F401 - the fixture
from tests.workflows.conftest import Flow


def test_a_scheduled_run_that_failed_raises_its_finding_through_the_signal(flow: Flow, data) -> None:  # noqa: F811
    reference, _current = data
    review = flow.submit()
    flow.decide(flow.validator, review)
    validation.suite_create(
        actor=flow.validator, project=flow.project, name="Nightly", spec=SUITE, model=flow.model,
        reference=reference, current_dataset=flow.dataset, schedule_hours=24,
    )  # fmt: skip
    assert validation.scheduled_runs() == 1
    run = ValidationRun.objects.get()
    scheduled_run_checked.send(sender=ValidationRun, run=run, counts={"fail": 2, "error": 0})
    finding = Finding.objects.get()
    assert (finding.severity, finding.version, finding.owner) == ("high", flow.version, flow.owner)
    assert finding.source == f"validation-suite:{run.suite_id}:failed"
    scheduled_run_checked.send(sender=ValidationRun, run=run, counts={"fail": 1})
    assert Finding.objects.count() == 1  # one open finding per suite and outcome


@pytest.mark.django_db
def test_the_version_page_gets_the_workflow_section_through_the_panels() -> None:
    flow = Flow("low")
    version = ModelVersion.objects.get(pk=flow.version.pk)
    context = panels.context_for("registry.version", user=flow.developer, version=version)
    assert {"reviews", "findings", "deployments", "gate", "moves", "can_submit", "can_retire"} <= context.keys()
    assert context["moves"] == ["submit"]
    owners = panels.context_for("registry.version", user=flow.owner, version=version)
    assert owners["moves"] == ["submit", "retire"]
