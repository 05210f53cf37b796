"""Outages against a real server process: the cache (Redis) killed, the database cut off.

The server is gunicorn on the test database. Its cache is a private redis-server that the test
kills and starts again; its database connection goes through a TCP proxy that the test cuts and
restores. The shared PostgreSQL and Redis are never touched.

``SIGNET_CACHE_OUTAGE_SECONDS`` sets how long sign-ins are hammered while the cache is down
(the acceptance figure is 30: ``SIGNET_CACHE_OUTAGE_SECONDS=30 pytest tests/core/test_outages.py -s``).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.backends.postgresql.base import DatabaseWrapper

from apps.accounts.services import api_token_create
from apps.core.middleware import database_unavailable
from tests.factories import PASSWORD, TeamFunction, make_project, make_user
from tests.servers import Http, PrivateRedis, TcpProxy, database_url, free_port, portal_server, private_redis
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CACHE_OUTAGE_SECONDS = float(os.environ.get("SIGNET_CACHE_OUTAGE_SECONDS", "5"))


def _log(path: Path) -> str:
    return path.read_text(errors="replace")


def _sign_in_status(base: str, username: str, password: str, ip: str | None = None) -> int:
    return Http(base, headers={"X-Forwarded-For": ip} if ip else None).sign_in(username, password).status


def _hammer_sign_in(base: str, seconds: float, writers: int = 4) -> Counter[int]:
    """Sign in over and over from many addresses, one in three with a wrong password; count the answers.

    Right passwords go to chen and dana, wrong ones to bruno (locked already) and an unknown name; a
    new address every 10 attempts keeps the per-address limit out of the way of the right ones.
    """
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def writer(index: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            ip = f"10.{index}.{n // 2500}.{n // 10 % 250}"
            if n % 3:
                status = _sign_in_status(base, ("chen", "dana")[n % 2], PASSWORD, ip)
            else:
                status = _sign_in_status(base, ("bruno", "nobody")[n % 2], "wrong-password", ip)
            with lock:
                statuses[status] += 1
            n += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_sign_in_answers_and_throttles_while_the_cache_is_down_and_recovers(tmp_path: Path) -> None:
    for name in ("alice", "bruno", "chen", "dana"):
        make_user(name, TeamFunction.BUSINESS)
    limit = settings.SIGNET_LOGIN_MAX_FAILURES
    redis: PrivateRedis
    with (
        private_redis(tmp_path / "redis.log") as redis,
        portal_server(
            tmp_path / "web.log", env={"CACHE_URL": redis.url, "TRUST_X_FORWARDED_FOR": "true"}, workers=1
        ) as base,
    ):
        assert _sign_in_status(base, "alice", PASSWORD) == 302

        redis.stop()
        assert _sign_in_status(base, "alice", PASSWORD) == 302  # no 500: sign-in goes on
        for _ in range(limit):
            assert _sign_in_status(base, "bruno", "wrong-password") == 400
        throttled = Http(base).sign_in("bruno", PASSWORD)
        assert throttled.status == 400  # the throttle still refuses after the limit
        assert "paused after repeated failures" in throttled.text
        assert "sign-in throttle: the cache is down" in _log(tmp_path / "web.log")

        statuses = _hammer_sign_in(base, CACHE_OUTAGE_SECONDS)
        print(f"\ncache down {CACHE_OUTAGE_SECONDS:.0f} s: {sum(statuses.values())} sign-ins, answers {dict(statuses)}")
        assert not [status for status in statuses if status >= 500], statuses
        assert statuses[302]
        assert statuses[400]
        assert _sign_in_status(base, "bruno", PASSWORD, "10.99.0.1") == 400  # locked stays locked throughout

        redis.start()  # empty, as after a restart without persistence
        assert wait_for(
            lambda: _sign_in_status(base, "dana", PASSWORD) == 302
            and "the cache answers again" in _log(tmp_path / "web.log"),
            timeout=30,
            interval=0.5,
        ), _log(tmp_path / "web.log")[-3000:]
        for _ in range(limit):
            assert _sign_in_status(base, "chen", "wrong-password") == 400
        assert _sign_in_status(base, "chen", PASSWORD) == 400  # shared counting is back
    assert _log(tmp_path / "web.log").count("sign-in throttle: the cache is down") == 1


def test_pages_and_api_answer_503_with_retry_after_while_the_database_is_cut(tmp_path: Path) -> None:
    owner = make_user("olga", TeamFunction.BUSINESS)
    project = make_project(owner)
    _token, raw = api_token_create(actor=None, user=owner, name="outage", days=1)
    db = settings.DATABASES["default"]
    proxy = TcpProxy((db["HOST"], int(db["PORT"])))
    try:
        env = {"DATABASE_URL": database_url(host="127.0.0.1", port=proxy.port)}
        with portal_server(tmp_path / "web.log", env=env, workers=1, threads=4) as base:
            browser, api = Http(base), Http(base, token=raw)
            assert browser.sign_in("olga", PASSWORD).status == 302
            page, listing = f"/projects/{project.slug}/", "/api/v1/projects/"
            assert browser.get(page).status == 200
            assert api.get(listing).status == 200

            proxy.cut()
            # The session and authentication middleware are the first to need the database here.
            answer = browser.get(page)
            assert answer.status == 503, answer.text[:2000]
            assert answer.headers["Retry-After"] == "30"
            assert "cannot reach its database" in answer.text
            signing_in = Http(base).sign_in("olga", PASSWORD)
            assert signing_in.status == 503, signing_in.text[:2000]
            for response in (
                api.get(listing),
                api.request("PATCH", f"/api/v1/projects/{project.slug}/", json_body={"business_objective": "Later."}),
                browser.get(listing),  # session authentication inside the API
            ):
                assert response.status == 503, response.text[:2000]
                assert response.headers["Retry-After"] == "30"
                assert response.json()["error"]["code"] == "unavailable"
            assert Http(base).get("/healthz").status == 200
            assert Http(base).get("/readyz").status == 503

            proxy.restore()
            assert wait_for(lambda: browser.get(page).status == 200, timeout=30, interval=0.5)
            assert api.get(listing).status == 200
            assert Http(base).get("/readyz").status == 200
            assert "database unreachable, answered 503" in _log(tmp_path / "web.log")
    finally:
        proxy.close()
    project.refresh_from_db()
    assert project.business_objective != "Later."


def test_only_a_lost_connection_counts_as_the_database_being_down() -> None:
    refused = DatabaseWrapper({**connection.settings_dict, "PORT": str(free_port())}, alias="refused")
    with pytest.raises(OperationalError) as lost:
        refused.ensure_connection()
    assert database_unavailable(lost.value)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 1")
        with pytest.raises(OperationalError) as cancelled, transaction.atomic():  # a savepoint to roll back
            cursor.execute("SELECT pg_sleep(1)")
    assert not database_unavailable(cancelled.value)  # a slow query is a bug to see, not an outage
