"""Sign-in, sign-out, throttling and session lifetime."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client, override_settings

from apps.accounts import throttle
from apps.accounts.models import User
from apps.accounts.services import SESSION_AUTH_AT, SESSION_SEEN_AT
from apps.audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import PASSWORD
from tests.servers import free_port

pytestmark = pytest.mark.django_db
SIGN_IN = "/accounts/sign-in/"
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def _try(client: Client, username: str, password: str) -> tuple[int, str]:
    response = client.post(SIGN_IN, {"username": username, "password": password})
    return response.status_code, response.content.decode()


def _error_text(html: str) -> str:
    start = html.index('<div class="error-summary"')
    return html[start : html.index("</div>", start)]


def test_sign_in_rotates_the_session_and_is_audited(developer: User) -> None:
    client = Client()
    session = client.session  # an anonymous session that existed before sign-in
    session["visited"] = True
    session.save()
    before = session.session_key
    response = client.post(SIGN_IN, {"username": "dev", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before
    event = AuditEvent.objects.get(action="accounts.sign_in.succeeded")
    assert (event.actor_id, event.auth_method, event.ip) == (developer.pk, "session", "127.0.0.1")
    assert event.request_id


def test_session_cookie_is_httponly_and_samesite(developer: User) -> None:
    client = Client()
    client.post(SIGN_IN, {"username": "dev", "password": PASSWORD})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_unknown_user_and_wrong_password_get_the_same_answer(developer: User) -> None:
    wrong = _try(Client(), "dev", "not-the-password")
    unknown = _try(Client(), "nobody-here", "not-the-password")
    assert wrong[0] == unknown[0] == 400
    assert _error_text(wrong[1]) == _error_text(unknown[1])
    failures = AuditEvent.objects.filter(action="accounts.sign_in.failed").order_by("seq")
    typed = [e.data["username"] for e in failures]
    assert typed[0] == "dev"
    assert typed[1].startswith("unknown:")  # not kept as typed: it may be a pasted password
    assert "nobody-here" not in typed[1]
    assert all(e.actor_id is None for e in failures)


def test_repeated_failures_lock_sign_in_even_with_the_right_password(developer: User) -> None:
    client = Client()
    for _ in range(settings.SIGNET_LOGIN_MAX_FAILURES):
        assert _try(client, "dev", "guess")[0] == 400
    status, html = _try(client, "dev", PASSWORD)
    assert status == 400
    assert "paused after repeated failures" in _error_text(html)
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="accounts.sign_in.failed", data__reason="locked").count() == 1


def test_an_unknown_user_locks_the_same_way_so_locks_reveal_nothing(developer: User) -> None:
    client = Client()
    for _ in range(settings.SIGNET_LOGIN_MAX_FAILURES):
        _try(client, "ghost", "guess")
    locked_unknown = _try(client, "ghost", "guess")
    for _ in range(settings.SIGNET_LOGIN_MAX_FAILURES):
        _try(Client(REMOTE_ADDR="10.0.0.9"), "dev", "guess")
    locked_known = _try(Client(REMOTE_ADDR="10.0.0.9"), "dev", "guess")
    assert locked_unknown[0] == locked_known[0] == 400
    assert _error_text(locked_unknown[1]) == _error_text(locked_known[1])


def test_inactive_people_cannot_sign_in(developer: User) -> None:
    User.objects.filter(pk=developer.pk).update(is_active=False)
    assert _try(Client(), "dev", PASSWORD)[0] == 400


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(developer: User, target: str) -> None:
    response = Client().post(f"{SIGN_IN}?next={target}", {"username": "dev", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_empty_or_oversized_fields_are_a_clear_400(developer: User) -> None:
    status, html = _try(Client(), "", "")
    assert status == 400
    assert "This field is required." in html
    status, html = _try(Client(), "x" * 5000, "y")
    assert status == 400
    assert "at most 150 characters" in html


def test_sign_out_is_a_post_and_is_audited(developer: User) -> None:
    client = signed_in(developer)
    assert client.get("/accounts/sign-out/").status_code == 405
    response = client.post("/accounts/sign-out/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    event = AuditEvent.objects.get(action="accounts.sign_out")
    assert (event.actor_id, event.data) == (developer.pk, {"reason": "signed_out"})


def _age_session(client: Client, key: str, seconds: float) -> None:
    session = client.session
    session[key] = time.time() - seconds
    session.save()


def test_an_idle_session_ends_after_the_idle_timeout(developer: User) -> None:
    client = signed_in(developer)
    assert client.get("/").status_code == 200
    _age_session(client, SESSION_SEEN_AT, settings.SIGNET_SESSION_IDLE_MINUTES * 60 + 5)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")
    assert AuditEvent.objects.filter(action="accounts.sign_out", data__reason="idle_timeout").count() == 1


def test_an_active_session_still_ends_at_its_absolute_lifetime(developer: User) -> None:
    client = signed_in(developer)
    _age_session(client, SESSION_AUTH_AT, settings.SIGNET_SESSION_MAX_HOURS * 3600 + 5)
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="accounts.sign_out", data__reason="session_lifetime").count() == 1


def test_pages_need_a_signed_in_person(client: Client) -> None:
    for path in ("/", "/accounts/settings/", "/audit/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/sign-in/?next=")


def test_admin_sign_in_goes_through_the_audited_sign_in_page(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")


# --- the cache (Redis) is down -----------------------------------------------------------------


@pytest.fixture
def cache_down() -> Iterator[None]:
    """Point the cache at a port where nothing listens: every cache call is refused, as in an outage."""
    location = f"redis://127.0.0.1:{free_port()}/0"
    throttle.reset()
    with override_settings(CACHES={"default": {"BACKEND": REDIS_CACHE, "LOCATION": location}}):
        yield
    throttle.reset()


def test_sign_in_works_while_the_cache_is_down_and_the_log_says_so_once(
    developer: User, cache_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="apps.accounts.throttle")
    assert _try(Client(), "dev", "guess")[0] == 400
    assert _try(Client(), "dev", PASSWORD)[0] == 302
    assert _try(Client(), "dev", PASSWORD)[0] == 302
    down = [r for r in caplog.records if "the cache is down" in r.getMessage()]
    assert len(down) == 1, [r.getMessage() for r in caplog.records]
    assert AuditEvent.objects.filter(action="accounts.sign_in.succeeded").count() == 2


def test_the_throttle_still_refuses_after_the_limit_while_the_cache_is_down(
    developer: User, validator: User, cache_down: None
) -> None:
    for _ in range(settings.SIGNET_LOGIN_MAX_FAILURES):
        assert _try(Client(), "dev", "guess")[0] == 400
    status, html = _try(Client(), "dev", PASSWORD)
    assert status == 400
    assert "paused after repeated failures" in _error_text(html)
    assert _try(Client(), "val", PASSWORD)[0] == 302  # only the throttled identity is refused
    assert AuditEvent.objects.filter(action="accounts.sign_in.failed", data__reason="locked").count() == 1


def test_an_identity_locked_before_the_cache_went_down_stays_locked(developer: User) -> None:
    throttle.reset()
    for _ in range(settings.SIGNET_LOGIN_MAX_FAILURES):
        assert _try(Client(), "dev", "guess")[0] == 400
    location = f"redis://127.0.0.1:{free_port()}/0"
    try:
        with override_settings(CACHES={"default": {"BACKEND": REDIS_CACHE, "LOCATION": location}}):
            assert _try(Client(), "dev", PASSWORD)[0] == 400
    finally:
        throttle.reset()
    assert _try(Client(), "dev", PASSWORD)[0] == 400  # and the shared count still holds once it is back
