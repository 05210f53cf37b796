"""Every response carries the strict Content-Security-Policy, and no template relies on inline code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include
from django.urls import path as route

from portal import urls as portal_urls
from tests.browser.crawl import crawl
from tests.conftest import Org, bearer, signed_in

pytestmark = pytest.mark.django_db

REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def assert_strict_policy(response, where: str) -> None:
    header = response.get("Content-Security-Policy")
    assert header, f"{where} ({response.status_code}) has no Content-Security-Policy"
    directives = {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}
    for name, value in REQUIRED.items():
        assert directives.get(name) == [value], (where, name, header)
    assert "unsafe-inline" not in header, (where, header)
    assert "unsafe-eval" not in header, (where, header)


@pytest.mark.parametrize("persona", ["developer", "auditor", "administrator", "owner"])
def test_every_page_a_person_reaches_has_the_policy(org: Org, persona: str) -> None:
    client = signed_in(org.persona(persona))
    walked = 0
    for path, response in crawl(client, limit=60):
        assert_strict_policy(response, path)
        walked += 1
    assert walked >= 10


def test_the_api_the_docs_error_pages_and_static_files_have_the_policy(org: Org, token_for) -> None:
    client = Client(raise_request_exception=False)
    headers = bearer(token_for(org.developer))
    for path in ("/api/v1/me/", "/api/v1/projects/", "/api/v1/schema/", "/api/v1/docs/", "/api/v1/docs/?script="):
        assert_strict_policy(client.get(path, headers=headers), path)
    assert_strict_policy(client.get("/api/v1/no-such-thing/"), "API 404")
    assert_strict_policy(client.get("/no-such-page/"), "page 404")
    assert_strict_policy(client.get("/accounts/sign-in/"), "sign-in")
    assert_strict_policy(client.get("/healthz"), "healthz")
    assert_strict_policy(client.get("/static/css/signet.css"), "a static file")
    assert_strict_policy(signed_in(org.outsider).get("/audit/"), "page 403")


def _page_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a page")


# This module is also a URL map for the 500 test: a page that fails, then the portal's own URLs.
urlpatterns = [route("page-boom/", _page_boom), route("", include("portal.urls"))]
handler500 = portal_urls.handler500


@pytest.mark.urls("tests.core.test_csp")
def test_the_500_page_has_the_policy() -> None:
    response = Client(raise_request_exception=False).get("/page-boom/")
    assert response.status_code == 500
    assert_strict_policy(response, "page 500")


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on*= event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "a style= attribute"),
    (re.compile(r"<style", re.I), "a <style> element"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"\shx-on", re.I), "an hx-on handler (evaluated code)"),
]


def test_no_template_has_inline_script_or_style() -> None:
    found = []
    for template in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        text = template.read_text()
        for pattern, what in INLINE:
            if pattern.search(text):
                found.append(f"{template.relative_to(settings.BASE_DIR)}: {what}")
    assert found == []
