"""API rate limits: per token, per person with a session, per address when anonymous; 429 in the error shape."""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest
from django.test import Client

from apps.core.api import throttles
from apps.registry.models import RegisteredModel
from tests.conftest import Org, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings) -> None:
    settings.SIGNET_API_RATES = {"token": "3/minute", "address": "2/minute"}


def _assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    body = json.loads(response.content)["error"]
    assert body["code"] == "throttled"
    assert body["message"].startswith("Request was throttled.")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_a_person_gets_their_rate_and_then_429_with_retry_after(org: Org, token_for, low_rates: None) -> None:
    api = Client(headers=bearer(token_for(org.developer)))
    assert [api.get("/api/v1/models/").status_code for _ in range(3)] == [200, 200, 200]
    _assert_throttled(api.get("/api/v1/models/"))
    # Another token of the same person shares the budget (ten tokens are not ten times the rate) ...
    _assert_throttled(Client(headers=bearer(token_for(org.developer))).get("/api/v1/models/"))
    # ... and so does their session; another person has a budget of their own.
    browser = Client()
    browser.force_login(org.developer)
    _assert_throttled(browser.get("/api/v1/models/"))
    assert Client(headers=bearer(token_for(org.validator))).get("/api/v1/models/").status_code == 200


def test_a_throttled_write_changes_nothing(org: Org, token_for, low_rates: None) -> None:
    api = Client(headers=bearer(token_for(org.developer)))
    for _ in range(3):
        api.get("/api/v1/models/")
    body = {"project": org.project.slug, "name": "late-model", "task": "regression"}
    _assert_throttled(api.post("/api/v1/models/", body, content_type="application/json"))
    assert not RegisteredModel.objects.filter(name="late-model").exists()


def test_a_session_is_limited_per_person(org: Org, low_rates: None) -> None:
    browser = Client()
    browser.force_login(org.developer)
    assert [browser.get("/api/v1/projects/").status_code for _ in range(3)] == [200, 200, 200]
    _assert_throttled(browser.get("/api/v1/projects/"))


def test_anonymous_callers_are_limited_per_address(low_rates: None) -> None:
    # The schema is open to all (so will be receivers of signed webhooks from other systems).
    accept = {"Accept": "application/json"}
    here = Client(REMOTE_ADDR="198.51.100.7", headers=accept)
    there = Client(REMOTE_ADDR="198.51.100.8", headers=accept)
    assert [here.get("/api/v1/schema/").status_code for _ in range(2)] == [200, 200]
    _assert_throttled(here.get("/api/v1/schema/"))
    assert there.get("/api/v1/schema/").status_code == 200


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nobody listens once the probe is closed


def test_without_the_cache_the_api_answers_and_the_log_says_limits_are_off(
    org: Org, token_for, settings, caplog: pytest.LogCaptureFixture
) -> None:
    api = Client(headers=bearer(token_for(org.developer)))  # the token is made while the cache is up
    settings.SIGNET_API_RATES = {"token": "1/minute", "address": "1/minute"}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    try:
        with caplog.at_level(logging.WARNING, logger="apps.core.api.throttles"):
            assert [api.get("/api/v1/models/").status_code for _ in range(3)] == [200, 200, 200]
        assert "API rate limits: the cache is down, limits are not applied" in caplog.text
        assert throttles._skip_cache_until > time.monotonic()  # the next calls do not wait for it again
    finally:
        throttles._skip_cache_until = 0.0  # the cache is back for the tests that follow


@pytest.mark.parametrize("value", ["lots", "10/fortnight", "0/minute", "-5/second"])
def test_a_malformed_rate_stops_start_up_naming_the_variable(value: str) -> None:
    from portal.env import ImproperlyConfiguredEnv, env_rate

    with pytest.raises(ImproperlyConfiguredEnv, match="API_RATE_PER_TOKEN must be a count per period"):
        env_rate("API_RATE_PER_TOKEN", "1200/minute", environ={"API_RATE_PER_TOKEN": value})


@pytest.mark.parametrize("backend", ["redis", "locmem"])
def test_the_window_slides_a_full_budget_spent_before_a_minute_turns_still_counts_after_it(
    org: Org, token_for, low_rates: None, monkeypatch: pytest.MonkeyPatch, settings, backend: str
) -> None:
    # Redis counts in one script; any other cache (the embedded default's files) with get_many/add/incr.
    if backend == "locmem":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    clock = [6_000_000.0 + 58.0]  # two seconds before a minute turns
    monkeypatch.setattr(throttles._SettingsRate, "timer", lambda self: clock[0])
    api = Client(headers=bearer(token_for(org.developer)))
    assert [api.get("/api/v1/models/").status_code for _ in range(3)] == [200, 200, 200]
    clock[0] += 3.0  # one second into the next minute: the last 60 seconds still hold 3 calls
    response = api.get("/api/v1/models/")
    _assert_throttled(response)
    # Counted as spread over the last minute: one of the three is out of the window 20 s after it turned.
    assert int(response["Retry-After"]) == 19
    clock[0] += 19.0
    assert api.get("/api/v1/models/").status_code == 200  # one call fits where one slid out
    _assert_throttled(api.get("/api/v1/models/"))
    clock[0] += 120.0  # two quiet minutes later the budget is whole again
    assert [api.get("/api/v1/models/").status_code for _ in range(3)] == [200, 200, 200]
    _assert_throttled(api.get("/api/v1/models/"))
