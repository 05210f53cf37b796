"""Personas shared by every test: auditor, developer, validator, administrator, outsider."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.test import Client

from apps.accounts.choices import TeamFunction
from apps.accounts.models import User
from apps.accounts.services import api_token_create
from tests.factories import PASSWORD, make_user


@receiver(connection_created)
def _let_the_test_runner_empty_tables(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    # Django empties the test database with TRUNCATE between transactional tests; the audit table
    # refuses TRUNCATE unless this session setting is on (migration audit.0003).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET signet.allow_truncate = 'on'")


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()  # sign-in throttling lives in the cache


@pytest.fixture
def auditor(db: None) -> User:
    return make_user("aude", TeamFunction.AUDIT)


@pytest.fixture
def developer(db: None) -> User:
    return make_user("dev", TeamFunction.DATA_SCIENCE)


@pytest.fixture
def validator(db: None) -> User:
    return make_user("val", TeamFunction.RISK_VALIDATION)


@pytest.fixture
def administrator(db: None) -> User:
    return make_user("root", superuser=True)


@pytest.fixture
def outsider(db: None) -> User:
    return make_user("oscar")


def signed_in(user: User) -> Client:
    client = Client()
    response = client.post("/accounts/sign-in/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


@pytest.fixture
def token_for():
    def make(user: User, days: int = 30) -> str:
        _token, raw = api_token_create(actor=None, user=user, name="test", days=days)
        return raw

    return make


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}
