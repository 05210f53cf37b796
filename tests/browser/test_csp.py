"""The main pages in Chromium under the strict Content-Security-Policy: not one violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.crawl import pages
from tests.browser.people import sign_in
from tests.conftest import Org, signed_in

# Collects what the browser refused, from before the first byte of each page is parsed.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _visit_all(page: Page, base: str, paths: list[str]) -> list[str]:
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(f"console: {message.text}")
        if "Content Security Policy" in message.text or "Refused to" in message.text
        else None,
    )
    for path in paths:
        page.goto(f"{base}{path}", wait_until="networkidle")
        refused.extend(f"{path}: {v}" for v in page.evaluate("window.__csp"))
    return refused


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", ["developer", "auditor", "administrator"])
def test_the_main_pages_load_without_a_policy_violation(live_server: LiveServer, page: Page, persona: str) -> None:
    org = Org()
    person = org.persona(persona)
    paths = pages(signed_in(person), limit=40, keep=lambda path: "?" not in path)
    assert len(paths) >= 8, paths
    page.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, live_server.url, person.username)
    assert _visit_all(page, live_server.url, paths) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_htmx_updates_and_the_api_docs_work_under_the_policy(live_server: LiveServer, page: Page) -> None:
    org = Org()
    page.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, live_server.url, org.auditor.username)

    # The audit trail polls the chain status with htmx: the swapped fragment arrives and nothing is refused.
    page.goto(f"{live_server.url}/audit/")
    with page.expect_response(re.compile(r"/audit/verification/"), timeout=10_000) as polled:
        pass  # htmx asks every 5 seconds
    assert polled.value.ok
    expect(page.locator("#verification #chain-head")).to_be_visible()
    assert page.evaluate("window.__csp") == []

    # Swagger UI starts from a script file and renders the operations.
    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.get_by_text("/api/v1/projects/", exact=True).first).to_be_visible()
    assert page.evaluate("window.__csp") == []
