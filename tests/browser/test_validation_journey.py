"""A developer uploads evaluation data and validates a version; the business reads the verdict (Chromium)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.csv as pa_csv
import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from apps.validation.models import ValidationRun
from tests.browser.people import sign_in, sign_out
from tests.validation.conftest import SUITE, evaluation_table
from tests.workers import celery_worker
from tests.workflows.conftest import Flow


def developer_uploads(page: Page, base: str, dataset_id: int, files: list[Path]) -> None:
    for path in files:
        page.goto(f"{base}/registry/datasets/{dataset_id}/")
        page.get_by_label("File").set_input_files(str(path))
        page.get_by_role("button", name="Upload", exact=True).click()
        page.wait_for_url(f"{base}/registry/datasets/{dataset_id}/")
        expect(page.get_by_role("row").filter(has_text=path.name).first).to_be_visible()


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_developer_validates_a_version_and_the_business_reads_the_summary(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    flow = Flow("low")
    files = []
    for name, table in (
        ("reference.csv", evaluation_table(5000, seed=1)),
        ("current.csv", evaluation_table(5000, seed=2, shift=1.5)),
    ):
        pa_csv.write_csv(table, tmp_path / name)
        files.append(tmp_path / name)
    base = live_server.url
    version_url = f"{base}/registry/versions/{flow.version.pk}/"

    sign_in(page, base, "devon")
    developer_uploads(page, base, flow.dataset.pk, files)
    with celery_worker(tmp_path / "worker.log"):
        page.goto(version_url)
        page.get_by_role("link", name="Run validation checks").click()
        page.get_by_label("Reference data").select_option(label="Applications v1 (5000 rows)")
        page.get_by_label("Current data").select_option(label="Applications v2 (5000 rows)")
        page.get_by_label("Or a suite as JSON").fill(json.dumps(SUITE))
        page.get_by_role("button", name="Start the checks").click()
        page.wait_for_url(re.compile(r"/validation/runs/\d+/$"))
        expect(page.get_by_text("Validation run queued; this page follows it.")).to_be_visible()
        # The progress bar polls until the worker is done, then the page shows the results.
        expect(page.locator("#run-summary")).to_be_visible(timeout=60_000)
    run = ValidationRun.objects.get()
    assert run.status == "failed"
    expect(page.get_by_role("heading", name="Did not pass")).to_be_visible()
    expect(page.get_by_role("img", name="PSI per feature")).to_be_visible()
    expect(page.get_by_role("img", name="ROC curve")).to_be_visible()
    expect(page.locator("#sec-drift .badge").first).to_have_text("fail")
    sign_out(page)

    sign_in(page, base, "bob")
    page.goto(version_url)
    page.locator("#validation-runs").get_by_role("link", name=f"Run {run.pk}").click()
    summary = page.locator("#run-summary")
    expect(summary).to_contain_text("The model did not pass: data drift")
    expect(summary).to_contain_text("whether the current data still looks like the reference data")
    page.screenshot(path=str(tmp_path / "validation.png"), full_page=True)
