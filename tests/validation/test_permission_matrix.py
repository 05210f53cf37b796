"""Every validation operation, API and page, for every persona, from one table.

Owners, developers and validators start runs and store suites (scheduled or not); every person who
can see the project reads runs, results and suites; others do not find them. There is no operation
to cancel a run, and a schedule is a suite stored with ``schedule_hours``.
"""

from __future__ import annotations

import json
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest

from apps.registry import services as registry
from apps.validation import services
from apps.validation.models import ValidationRun, ValidationSuite
from tests.conftest import Org
from tests.factories import csv_bytes
from tests.matrix import Op, built_once_per_module, cases, check_case, parse_table, tokens_for

TABLE = parse_table(
    """
    operation            owner biz  dev  val  ops  comp aud  admin out  anon
    api.runs             200   200  200  200  200  200  200  200   200  401
    api.runs_filtered    200   200  200  200  200  200  200  200   200  401
    api.run              200   200  200  200  200  200  200  200   404  401
    api.run_create       201   403  201  201  403  403  403  403   400  401
    api.run_of_suite     201   403  201  201  403  403  403  403   400  401
    api.suites           200   200  200  200  200  200  200  200   200  401
    api.suite_create     201   403  201  201  403  403  403  403   400  401
    api.schedule_create  201   403  201  201  403  403  403  403   400  401
    page.run_new         200   403  200  200  403  403  403  403   404  302x
    page.run_create      302   403  302  302  403  403  403  403   404  302x
    page.run             200   200  200  200  200  200  200  200   404  302x
    page.run_csv         200   200  200  200  200  200  200  200   404  302x
    page.run_json        200   200  200  200  200  200  200  200   404  302x
    page.suites          200   200  200  200  200  200  200  200   404  302x
    page.suite_create    302   403  302  302  403  403  403  403   404  302x
    page.schedule_create 302   403  302  302  403  403  403  403   404  302x
    """
)

SUITE = {
    "task": "binary_classification",
    "columns": {"target": "label", "numeric": ["age", "income"]},
    "checks": [{"check": "quality", "metric": "missing_rate", "max": 0.05}],
}


class Validation(Org):
    def __init__(self) -> None:
        super().__init__()
        with TemporaryDirectory() as folder:
            uploads = []
            for name in ("reference.csv", "current.csv"):
                path = Path(folder) / name
                path.write_bytes(csv_bytes(20))
                uploads.append(
                    registry.dataset_version_upload(
                        actor=self.developer, dataset=self.dataset, path=path, original_name=name
                    )
                )
        self.reference, self.current = uploads
        self.run = services.run_create(
            actor=self.developer, version=self.version, reference=self.reference, current=self.current, spec=SUITE
        )
        self.suite = services.suite_create(actor=self.validator, project=self.project, name="Quality", spec=SUITE)
        self.tokens = tokens_for(self)


def _runs(ctx: Validation) -> int:
    return ValidationRun.objects.count()


def _suites(ctx: Validation) -> int:
    return ValidationSuite.objects.count()


def _run_body(ctx: Validation, **extra: object) -> dict[str, object]:
    return {"version": ctx.version.pk, "reference": ctx.reference.pk, "current": ctx.current.pk, **extra}


def _schedule(ctx: Validation) -> dict[str, object]:
    return {"model": ctx.model.pk, "reference": ctx.reference.pk, "current_dataset": ctx.dataset.pk}


OPS: dict[str, Op] = {
    "api.runs": Op("get", lambda c: "/api/v1/validation-runs/"),
    "api.runs_filtered": Op(
        "get", lambda c: "/api/v1/validation-runs/", lambda c: {"version": c.version.pk, "status": "queued"}
    ),
    "api.run": Op("get", lambda c: f"/api/v1/validation-runs/{c.run.pk}/"),
    "api.run_create": Op("post", lambda c: "/api/v1/validation-runs/", lambda c: _run_body(c, spec=SUITE), _runs),
    "api.run_of_suite": Op(
        "post", lambda c: "/api/v1/validation-runs/", lambda c: _run_body(c, suite=c.suite.pk), _runs
    ),
    "api.suites": Op("get", lambda c: "/api/v1/validation-suites/"),
    "api.suite_create": Op(
        "post",
        lambda c: "/api/v1/validation-suites/",
        lambda c: {"project": c.project.slug, "name": "Nightly", "spec": SUITE},
        _suites,
    ),
    "api.schedule_create": Op(
        "post",
        lambda c: "/api/v1/validation-suites/",
        lambda c: {"project": c.project.slug, "name": "Daily", "spec": SUITE, "schedule_hours": 24, **_schedule(c)},
        _suites,
    ),
    "page.run_new": Op("get", lambda c: f"/validation/versions/{c.version.pk}/runs/new/"),
    "page.run_create": Op(
        "post",
        lambda c: f"/validation/versions/{c.version.pk}/runs/new/",
        lambda c: {"reference": c.reference.pk, "current": c.current.pk, "suite": "", "spec": json.dumps(SUITE)},
        _runs,
    ),
    "page.run": Op("get", lambda c: f"/validation/runs/{c.run.pk}/"),
    "page.run_csv": Op("get", lambda c: f"/validation/runs/{c.run.pk}/results.csv"),
    "page.run_json": Op("get", lambda c: f"/validation/runs/{c.run.pk}/results.json"),
    "page.suites": Op("get", lambda c: f"/validation/projects/{c.project.slug}/suites/"),
    "page.suite_create": Op(
        "post",
        lambda c: f"/validation/projects/{c.project.slug}/suites/",
        lambda c: {"name": "Nightly", "spec": json.dumps(SUITE)},
        _suites,
    ),
    "page.schedule_create": Op(
        "post",
        lambda c: f"/validation/projects/{c.project.slug}/suites/",
        lambda c: {"name": "Daily", "spec": json.dumps(SUITE), "schedule_hours": 24, **_schedule(c)},
        _suites,
    ),
}

validation = built_once_per_module(Validation)


@pytest.fixture
def ctx(validation: Validation, db: None) -> Validation:
    for instance in (validation.project, validation.model, validation.version, validation.dataset):
        instance.refresh_from_db()
    return validation


@pytest.mark.parametrize(("operation", "persona"), cases(TABLE, OPS))
def test_each_persona_gets_what_the_table_says(ctx: Validation, operation: str, persona: str) -> None:
    check_case(ctx, OPS, TABLE, operation, persona)
