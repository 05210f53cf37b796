"""A suite's lists are capped and parsed in linear time: a hostile suite is a quick 400, not a dead worker.

Issue #10: a suite naming 100,000 columns took over a minute to parse (a duplicate check that
counted every name against every other) and the worker running it was killed. The time bounds
here are loose regression guards for that quadratic check, not benchmarks.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client

from apps.validation.engine import SpecError, parse_spec
from apps.validation.engine.spec import MAX_COLUMNS, MAX_SENSITIVE
from apps.validation.models import ValidationRun, ValidationSuite
from tests.conftest import bearer
from tests.workflows.conftest import Flow

HUGE = 100_000


def suite(**columns: object) -> dict:
    return {"task": "binary_classification", "columns": {"target": "y", **columns}, "checks": "standard"}


def names(count: int, prefix: str = "c") -> list[str]:
    return [f"{prefix}{index}" for index in range(count)]


def timed_refusal(data: dict) -> tuple[str, float]:
    started = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        parse_spec(data)
    return str(caught.value), time.perf_counter() - started


@pytest.mark.parametrize("key", ["numeric", "categorical"])
def test_a_suite_naming_100000_feature_columns_is_refused_at_once_with_the_limit(key: str) -> None:
    message, seconds = timed_refusal(suite(**{key: names(HUGE)}))
    assert f'"columns.{key}" lists 100,000 columns; at most {MAX_COLUMNS:,} are allowed.' in message
    assert seconds < 1


def test_a_schema_of_100000_columns_and_too_many_sensitive_attributes_are_refused() -> None:
    message, seconds = timed_refusal({**suite(), "schema": names(HUGE)})
    assert f"at most {MAX_COLUMNS:,} are allowed" in message
    assert seconds < 1
    message, _ = timed_refusal(suite(sensitive=names(MAX_SENSITIVE + 1, "s")))
    assert f'"columns.sensitive" lists {MAX_SENSITIVE + 1:,} columns; at most {MAX_SENSITIVE:,}' in message


def test_a_thousand_distinct_columns_are_accepted_and_parsed_quickly() -> None:
    started = time.perf_counter()
    spec = parse_spec(suite(numeric=names(MAX_COLUMNS, "n"), categorical=names(MAX_COLUMNS, "k")))
    assert time.perf_counter() - started < 1
    assert spec.columns.numeric is not None
    assert len(spec.columns.numeric) == MAX_COLUMNS


def test_duplicates_in_a_long_list_are_found_in_linear_time_and_named() -> None:
    listed = [*names(MAX_COLUMNS - 2), "c7", "c9"]
    message, seconds = timed_refusal(suite(numeric=listed))
    assert message == '"columns.numeric" names "c7", "c9" more than once.'
    assert seconds < 1


def test_many_drift_checks_on_many_columns_parse_quickly() -> None:
    numeric = names(MAX_COLUMNS, "n")
    checks = [{"check": "drift", "metric": "psi", "column": name} for name in numeric]
    data = {**suite(numeric=numeric, categorical=names(MAX_COLUMNS, "k")), "checks": checks}
    started = time.perf_counter()
    assert len(parse_spec(data).checks or ()) == MAX_COLUMNS
    assert time.perf_counter() - started < 1


def test_the_api_answers_400_quickly_to_a_run_or_a_suite_naming_100000_columns(flow: Flow, data, token_for) -> None:
    reference, current = data
    api = Client(headers=bearer(token_for(flow.developer)))
    spec = suite(numeric=names(HUGE))
    started = time.perf_counter()
    run = api.post(
        "/api/v1/validation-runs/",
        {"version": flow.version.pk, "reference": reference.pk, "current": current.pk, "spec": spec},
        content_type="application/json",
    )
    stored = api.post(
        "/api/v1/validation-suites/",
        {"project": flow.project.slug, "name": "Every column", "spec": spec},
        content_type="application/json",
    )
    elapsed = time.perf_counter() - started
    for answer in (run, stored):
        assert answer.status_code == 400
        assert "at most 1,000 are allowed" in answer.content.decode()
    assert elapsed < 5  # both requests with ~1 MB bodies; measured 0.4 s, the quadratic check took minutes
    assert not ValidationRun.objects.exists()
    assert not ValidationSuite.objects.exists()
