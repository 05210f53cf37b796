"""Personas shared by every test: auditor, developer, validator, administrator, outsider."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_django
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.test import Client

from apps.accounts.choices import TeamFunction
from apps.accounts.models import User
from apps.accounts.services import api_token_create
from apps.core.context import isolated
from tests.factories import PASSWORD, make_user

pytest_plugins = ["tests.api_coverage"]  # every API operation of the schema is called by a test


@receiver(connection_created)
def _let_the_test_runner_empty_tables(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    # Django empties the test database with TRUNCATE between transactional tests; the audit tables
    # refuse TRUNCATE, and only the test databases' guard (installed below) lets this setting through.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET signet.allow_truncate = 'on'")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest_django.DjangoDbBlocker) -> None:
    """Create the test databases, then give them (and only them) a TRUNCATE guard the runner can pass."""
    from tests.audit.testdb import allow_truncate_in_test_databases

    with django_db_blocker.unblock():
        allow_truncate_in_test_databases()


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    """Empty this run's part of the cache (sign-in and API throttling live there), not another run's."""
    backend = caches["default"]
    prefix = settings.CACHES["default"].get("KEY_PREFIX")
    if isinstance(backend, RedisCache) and prefix:
        client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]  # Django has no public one
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _no_request_context_left_over() -> Iterator[None]:
    """No test inherits another's actor: a request never closed, a task's auth method (apps/core/context.py)."""
    with isolated():
        yield


# Tests that must share one pytest-xdist worker (`make test` runs `--dist loadgroup`), and why. Every
# other test goes to whichever worker is free: each worker has its own database, cache keys, folder
# and Celery queues (tests/settings.py), and every server a test starts takes a free port.
XDIST_GROUPS = {
    # One Chromium for the journeys (the session's ``browser`` fixture), not one per worker.
    "tests/browser/": "browser",
    # These load the machine on purpose and count what happens in a window of seconds (sign-ins while
    # a cache is down, writes from many threads, a log line once a minute): one at a time, so they
    # never measure each other.
    "tests/core/test_concurrency_http.py": "load",
    "tests/core/test_outages.py": "load",
    "tests/audit/test_concurrency.py": "load",
}


def _database_use(item: pytest.Item) -> str:
    """How a test uses the database, as pytest-django orders tests: "db", then "transactional", then "none"."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", [])
    transactional = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
    if transactional or "transactional_db" in fixtures:
        return "transactional"
    return "db" if marker or "db" in fixtures else "none"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the marks to schedule the tests
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # pytest-django runs the tests in plain transactions before the transactional ones, whose
    # TRUNCATE empties the rows the migrations seeded (the default approval policies) that the
    # former rely on. pytest-xdist runs a group where its first test stood, so a group holding both
    # kinds would run its transactional tests before the plain tests that come after it on that
    # worker: each group is split by how its tests use the database, and keeps the order.
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        group = next((name for prefix, name in XDIST_GROUPS.items() if path.startswith(prefix)), None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(f"{group}-{_database_use(item)}"))


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist's loadgroup would otherwise send the largest groups first, transactional tests
    # and all, ahead of the plain tests that need the seeded rows (see above): keep pytest-django's
    # order, whichever command line started the run.
    if getattr(config.option, "loadscopereorder", None):
        config.option.loadscopereorder = False
    # Here, not in tests/settings.py: mypy's Django plugin imports the settings too, and would leave a
    # folder behind for every run. WhiteNoise warns about a missing static folder.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the run's own folder of uploads, artifacts and the SQLite file (tests/settings.py)."""
    # Each xdist worker removes its own folder; the controller, last, removes the run's (tests/settings.py).
    if getattr(settings, "SIGNET_TEST_OWNS_VAR_DIR", False) and os.environ.get("SIGNET_TEST_RUN_PID") == str(
        os.getpid()
    ):
        shutil.rmtree(settings.VAR_DIR, ignore_errors=True)


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


class Org:
    """One project with a person in each project role, plus an auditor, an administrator and an outsider."""

    def __init__(self) -> None:
        from apps.registry import services as registry
        from tests.factories import make_project

        self.owner = make_user("olivia", TeamFunction.BUSINESS)
        self.business_owner = make_user("bob", TeamFunction.BUSINESS)
        self.developer = make_user("devon", TeamFunction.DATA_SCIENCE)
        self.validator = make_user("vera", TeamFunction.RISK_VALIDATION)
        self.it_ops = make_user("ike", TeamFunction.IT_OPS)
        self.compliance = make_user("cora", TeamFunction.COMPLIANCE)
        self.auditor = make_user("audrey", TeamFunction.AUDIT)
        self.administrator = make_user("adam", superuser=True)
        self.outsider = make_user("otto", TeamFunction.DATA_SCIENCE)  # in a team, but not in this project
        self.project = make_project(
            self.owner,
            business_owner=self.business_owner,
            developer=self.developer,
            validator=self.validator,
            it_ops=self.it_ops,
            compliance=self.compliance,
        )
        self.model = registry.model_create(
            actor=self.developer, project=self.project, name="pd-model", task="binary_classification", tags=["credit"]
        )
        self.version = registry.version_create(actor=self.developer, model=self.model, framework="sklearn")
        self.dataset = registry.dataset_create(actor=self.developer, project=self.project, name="Applications")

    def persona(self, name: str) -> User:
        return getattr(self, name)


PERSONAS = [
    "owner",
    "business_owner",
    "developer",
    "validator",
    "it_ops",
    "compliance",
    "auditor",
    "administrator",
    "outsider",
]


@pytest.fixture
def org(db: None) -> Org:
    return Org()


@pytest.fixture(scope="module")
def module_org(django_db_setup: None, django_db_blocker: pytest_django.DjangoDbBlocker) -> Iterator[Org]:
    """One ``Org`` for a whole module, inside a transaction rolled back after its last test.

    For modules of many read-mostly cases (the permission matrices): each test still runs in a
    savepoint of its own, so what a case writes is gone before the next one, and the personas are
    built once instead of once per case. Use it as ``org`` with ``shared_org`` below.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = Org()
        except BaseException:
            outer.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def shared_org(module_org: Org, db: None) -> Org:
    """The module's ``Org``, in this test's savepoint (see ``module_org``)."""
    for instance in (module_org.project, module_org.model, module_org.version, module_org.dataset):
        instance.refresh_from_db()
    return module_org
