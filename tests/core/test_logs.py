"""Every log line says which request and which person it belongs to (JSON in production)."""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Iterator
from logging.config import DictConfigurator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import Org, bearer, signed_in


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The production handler of settings.LOGGING (its filter and JSON formatter) on django.request."""
    config: dict[str, Any] = copy.deepcopy(settings.LOGGING)
    build = DictConfigurator(config)
    formatters, filters = config["formatters"], config["filters"]
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(build.configure_formatter(formatters["json"]))
    handler.addFilter(build.configure_filter(filters["context"]))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield out
    logger.removeHandler(handler)


def _lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.django_db
def test_an_api_line_names_the_request_and_the_token_holder(org: Org, token_for, json_lines: io.StringIO) -> None:
    response = Client(headers=bearer(token_for(org.developer))).get("/api/v1/versions/999999/")
    assert response.status_code == 404
    [line] = _lines(json_lines)
    assert line["level"] == "WARNING"
    assert line["logger"] == "django.request"
    assert line["message"] == "Not Found: /api/v1/versions/999999/"
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["user_id"], line["auth_method"]) == (org.developer.pk, "token")


@pytest.mark.django_db
def test_a_page_line_names_the_signed_in_person_and_keeps_the_proxys_request_id(
    org: Org, json_lines: io.StringIO, settings
) -> None:
    settings.SIGNET_TRUST_X_FORWARDED_FOR = True  # behind our proxy, which sets X-Request-ID
    page = signed_in(org.validator)
    response = page.get("/projects/no-such-project/", headers={"X-Request-ID": "lb-7f3a9c"})
    assert response.status_code == 404
    [line] = _lines(json_lines)
    assert (line["request_id"], line["user_id"], line["auth_method"]) == ("lb-7f3a9c", org.validator.pk, "session")


def test_a_line_outside_any_request_says_so(json_lines: io.StringIO) -> None:
    logging.getLogger("django.request").warning("outside")
    [line] = _lines(json_lines)
    assert (line["request_id"], line["user_id"]) == ("-", None)
