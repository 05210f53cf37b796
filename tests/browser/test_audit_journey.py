"""An auditor signs in, filters the trail, exports it and verifies the chain, in Chromium."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from tests.factories import PASSWORD, TeamFunction, make_user
from tests.workers import celery_worker


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_auditor_filters_exports_and_verifies_the_trail(live_server, page, tmp_path: Path) -> None:
    make_user("aude", TeamFunction.AUDIT)
    developer = make_user("dev", TeamFunction.DATA_SCIENCE)
    audit_record(actor=developer, action="registry.model_version.submitted", target_repr="credit-scoring v3")
    audit_record(actor=developer, action="registry.model_version.submitted", target_repr="=cmd|' /C calc'!A0")

    page.goto(f"{live_server.url}/audit/")
    assert "/accounts/sign-in/" in page.url
    page.get_by_label("Username").fill("aude")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/audit/")
    assert page.get_by_role("heading", name="Audit trail").is_visible()

    page.get_by_label("Action").fill("registry.model_version.submitted")
    page.get_by_label("Actor (username)").fill("dev")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"[?&]action=registry\.model_version\.submitted&"))
    rows = page.locator(".audit-table tbody tr")
    assert rows.count() == 2
    assert "credit-scoring v3" in rows.nth(1).inner_text()
    assert "accounts.sign_in" not in page.locator(".audit-table").inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    exported = Path(download_info.value.path()).read_text()
    records = list(csv.DictReader(io.StringIO(exported)))
    assert [r["target_repr"] for r in records] == ["credit-scoring v3", "'=cmd|' /C calc'!A0"]

    with celery_worker(tmp_path / "worker.log"):
        page.get_by_role("button", name="Verify the chain now").click()
        page.get_by_text("Verification started").wait_for()
        page.locator("#verification-result", has_text="Intact").wait_for(timeout=30_000)
    assert AuditEvent.objects.filter(action="audit.chain.verified", actor_name="aude").count() == 1
    page.screenshot(path=str(tmp_path / "audit.png"))
