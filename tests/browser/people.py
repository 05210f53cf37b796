"""Steps people take in every browser journey."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from tests.factories import PASSWORD

LOW_RISK_ANSWERS = {
    "impact_on_people": "none",
    "automation": "human_decides",
    "regulatory_scope": "none",
    "data_sensitivity": "public",
    "scale": "small",
    "reversibility": "easy",
}


def sign_in(page: Page, base_url: str, username: str) -> None:
    """Sign in through the real sign-in page and land on the home page."""
    page.goto(f"{base_url}/accounts/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"^{re.escape(base_url)}/$"))


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/sign-in/"))
