"""Settings come from the environment and refuse malformed values; production refuses to boot unsafe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portal.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list, env_url

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-" + "x7Qp" * 12,
    "ALLOWED_HOSTS": "signet.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/signet",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
}


@pytest.mark.parametrize("value", ["maybe", "tru", "2", "yes please"])
def test_a_boolean_other_than_true_or_false_is_refused(value: str) -> None:
    with pytest.raises(ImproperlyConfiguredEnv, match="DEBUG must be true or false"):
        env_bool("DEBUG", False, environ={"DEBUG": value})


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("False", False), ("1", True), ("off", False)])
def test_booleans_parse(value: str, expected: bool) -> None:
    assert env_bool("X", not expected, environ={"X": value}) is expected


@pytest.mark.parametrize(("value", "message"), [("ten", "whole number"), ("0", "at least 1"), ("99999", "at most")])
def test_numbers_out_of_shape_or_range_are_refused(value: str, message: str) -> None:
    with pytest.raises(ImproperlyConfiguredEnv, match=message):
        env_int("PORT", 8000, minimum=1, maximum=65535, environ={"PORT": value})


def test_lists_and_urls_parse_and_refuse() -> None:
    assert env_list("H", environ={"H": " a.example, ,b.example "}) == ["a.example", "b.example"]
    assert env_url("U", None, schemes=("redis",), environ={"U": "redis://h:6379/0"}) == "redis://h:6379/0"
    with pytest.raises(ImproperlyConfiguredEnv, match="must start with one of redis://"):
        env_url("U", None, schemes=("redis",), environ={"U": "mysql://h/db"})


def _boot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # Only what a production host would set: nothing of the test settings leaks in.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    clean.update(env, DJANGO_SETTINGS_MODULE="portal.settings", SIGNET_VAR_DIR=os.environ["SIGNET_VAR_DIR"])
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        check=False,
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _boot(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}
    result = _boot(env, "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_a_malformed_variable_stops_start_up_naming_it() -> None:
    result = _boot(dict(PRODUCTION, SESSION_IDLE_MINUTES="half an hour"), "check")
    assert result.returncode != 0
    assert "SESSION_IDLE_MINUTES must be a whole number" in result.stderr


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _boot(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_an_email_backend_says_so_at_start_up() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "EMAIL_BACKEND"}
    result = _boot(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "(signet.W001) E-mail is not configured (EMAIL_BACKEND is not set)" in result.stderr
    # Processes that run no system checks (gunicorn, Celery) log it when Django starts, as JSON.
    first = json.loads(result.stderr.splitlines()[0])
    assert (first["level"], first["logger"]) == ("WARNING", "signet.startup")
    assert first["message"].startswith("E-mail is not configured")
    assert (first["request_id"], first["user_id"], first["auth_method"]) == ("-", None, "system")


def test_development_prints_mail_to_the_console_without_a_word() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "EMAIL_BACKEND"}
    result = _boot(dict(env, DEBUG="true"), "check")
    assert result.returncode == 0, result.stderr
    assert "E-mail is not configured" not in result.stderr


def test_log_format_is_json_or_plain_and_nothing_else() -> None:
    result = _boot(dict(PRODUCTION, LOG_FORMAT="xml"), "check")
    assert result.returncode != 0
    assert "LOG_FORMAT must be one of json, plain, not 'xml'" in result.stderr
    plain = _boot({k: v for k, v in PRODUCTION.items() if k != "EMAIL_BACKEND"} | {"LOG_FORMAT": "plain"}, "check")
    assert " WARNING signet.startup E-mail is not configured" in plain.stderr
    assert "[request=- user=-]" in plain.stderr.splitlines()[0]


def test_a_heartbeat_slower_than_half_the_lease_stops_start_up() -> None:
    env = dict(PRODUCTION, VALIDATION_LEASE_SECONDS="20", VALIDATION_HEARTBEAT_SECONDS="11")
    result = _boot(env, "check")
    assert result.returncode != 0
    assert "VALIDATION_HEARTBEAT_SECONDS must be at most half of VALIDATION_LEASE_SECONDS" in result.stderr


def test_periodic_and_recovery_work_is_routed_to_its_own_queue_and_a_plain_worker_consumes_both() -> None:
    from django.conf import settings

    from portal.celery import app

    amqp: Any = app.amqp  # the stubs know neither its router nor its queues
    periodic = settings.SIGNET_PERIODIC_QUEUE
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert amqp.router.route({}, entry["task"])["queue"].name == periodic, entry["task"]
    for task in ("apps.validation.tasks.execute_run", "apps.notifications.tasks.send_notification_email"):
        assert amqp.router.route({}, task)["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE
    assert set(amqp.queues.consume_from) == {settings.CELERY_TASK_DEFAULT_QUEUE, periodic}
    assert settings.CELERY_BEAT_SCHEDULE["validation-sweep"]["schedule"] == 15.0
