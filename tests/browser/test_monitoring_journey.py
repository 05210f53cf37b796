"""A developer sets up a monitor in the browser, two weeks of traffic drift, the owner sees it and the gate refuses.

Real Chromium against the live server, a real Celery worker on Redis profiling the batches, and the
serving process's side played by the documented snippet of docs/monitoring.md with an API token.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from apps.monitoring.models import Batch, Breach, Monitor, WindowResult
from apps.validation.models import ValidationRun
from tests.browser.people import sign_in, sign_out
from tests.monitoring.conftest import SUITE, deployed, traffic
from tests.monitoring.test_snippet import snippet
from tests.validation.conftest import evaluation_table, upload
from tests.workers import celery_worker, wait_for
from tests.workflows.conftest import Flow

DAYS = 14
DRIFT_FROM = 7  # the second week's features moved
ROWS = 300


def day_rows(day: int, start: datetime) -> list[dict[str, Any]]:
    """One day of predictions as the serving process sends them (times as ISO 8601 text)."""
    table = traffic(
        ROWS, start=start, seed=500 + day, shift=1.5 if day >= DRIFT_FROM else 0.0, first_id=day * ROWS, spread_hours=24
    )
    rows = table.to_pylist()
    for row in rows:
        row["timestamp"] = row["timestamp"].isoformat()
    return rows


def gate(base: str, token: str) -> dict[str, Any]:
    response = requests.get(
        f"{base}/api/v1/gate/",
        params={"model": "pd-model", "version": "1", "environment": "production"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def developer_sets_up_a_monitor(page: Page, base: str, version_url: str, tmp_path: Path) -> None:
    sign_in(page, base, "devon")
    page.goto(version_url)
    page.get_by_role("link", name="Set up a monitor").click()
    page.wait_for_url(re.compile(r"/monitoring/deployments/\d+/monitors/new/$"))
    expect(page.locator("#monitor-defaults")).to_contain_text("Applications v1")
    page.get_by_label("Name").fill("production")
    page.get_by_label("Hour", exact=True).uncheck()  # daily and weekly windows are enough for daily batches
    page.get_by_label("Breach window").select_option("day")
    page.get_by_label("A breach makes the deployment gate refuse this version").check()
    page.get_by_label("Expected interval (minutes)").fill("1440")
    page.screenshot(path=str(tmp_path / "monitor-form.png"), full_page=True)
    page.get_by_role("button", name="Set up the monitor").click()
    page.wait_for_url(re.compile(r"/monitoring/monitors/\d+/$"))
    expect(page.get_by_text("Monitor production set up.")).to_be_visible()
    sign_out(page)


def serving_process_sends_two_weeks(base: str, token: str, monitor: Monitor, midnight: datetime) -> None:
    """The documented snippet, as a serving process calls it: one batch per day, the oldest first."""
    send_batch = snippet()["send_batch"]
    for day in range(DAYS):
        start = midnight - timedelta(days=DAYS - day)
        sent = send_batch(base, token, monitor.pk, day_rows(day, start), key=f"serving-{start:%Y-%m-%d}")
        assert sent["status"] == "received", sent


def settled(monitor: Monitor) -> bool:
    """Every batch profiled, every day's window computed, and the drift of f0 breaching."""
    profiled = Batch.objects.filter(monitor=monitor, status="profiled").count() == DAYS
    days = WindowResult.objects.filter(monitor=monitor, size="day", position=0).count() == DAYS
    return profiled and days and Breach.objects.filter(monitor=monitor, column="f0", recovered_at=None).exists()


def owner_reads_the_monitor(page: Page, base: str, version_url: str, monitor: Monitor, tmp_path: Path) -> None:
    sign_in(page, base, "olivia")
    page.goto(version_url)
    expect(page.locator("#monitors")).to_contain_text("breaching")
    page.locator("#monitors").get_by_role("link", name="production").click()
    page.wait_for_url(f"{base}/monitoring/monitors/{monitor.pk}/")
    summary = page.locator("#summary")
    expect(summary).to_contain_text("In the latest day window f0 is higher than at approval")
    expect(summary).to_contain_text("beyond the threshold of at most 0.2")
    chart = page.get_by_role("img", name=re.compile(r"^drift psi of f0 per day"))
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("aria-label", re.compile(r"threshold 0\.2, crossed it in the window of"))
    expect(chart.locator("circle.bar-fail")).to_have_count(DAYS - DRIFT_FROM)
    expect(chart.locator("circle:not(.bar-fail)")).to_have_count(DRIFT_FROM)
    expect(chart.locator("line.crossing")).to_have_count(1)
    expect(page.locator("#batches")).to_contain_text("Profiled")
    page.screenshot(path=str(tmp_path / "monitor.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_developer_monitors_a_deployment_the_owner_sees_it_drift_and_the_gate_refuses(
    live_server: LiveServer, page: Page, tmp_path: Path, token_for
) -> None:
    flow = Flow("low")
    reference = upload(flow, evaluation_table(3000, seed=1), tmp_path, "reference.parquet")
    # Validated before its approval: the monitor's default reference and suite are this run's.
    ValidationRun.objects.create(
        version=flow.version, spec=SUITE, reference=reference, current=reference, status="succeeded",
        created_by=flow.developer,
    )  # fmt: skip
    deployed(flow)
    base = live_server.url
    version_url = f"{base}/registry/versions/{flow.version.pk}/"
    serving = token_for(flow.it_ops)  # the serving process's service account holds the IT operations role
    assert gate(base, serving)["allowed"] is True

    developer_sets_up_a_monitor(page, base, version_url, tmp_path)
    monitor = Monitor.objects.get()
    assert (monitor.window_sizes, monitor.gate_blocking, monitor.reference) == (["day", "week"], True, reference)

    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with celery_worker(tmp_path / "worker.log"):
        serving_process_sends_two_weeks(base, serving, monitor, midnight)
        assert wait_for(lambda: settled(monitor), timeout=60, interval=0.5), (tmp_path / "worker.log").read_text()[
            -3000:
        ]
    breach = Breach.objects.get(monitor=monitor, column="f0", metric="psi")
    assert breach.window_start >= midnight - timedelta(days=DAYS - DRIFT_FROM)
    assert breach.finding is not None

    owner_reads_the_monitor(page, base, version_url, monitor, tmp_path)
    breaches = page.locator("#breaches")
    expect(breaches.get_by_role("row").filter(has_text="psi (f0)")).to_contain_text("breaching")
    breaches.get_by_role("link", name="Monitor production: drift psi (f0)").click()
    page.wait_for_url(f"{version_url}#finding-{breach.finding_id}")
    expect(page.locator(f"#finding-{breach.finding_id}")).to_contain_text("Monitor production: drift psi (f0)")
    expect(page.locator("#gate")).to_contain_text("Deployment gate: refused.")

    refused = gate(base, serving)
    assert refused["allowed"] is False
    assert any("breaches its monitor production: drift psi of f0" in reason for reason in refused["reasons"]), refused
