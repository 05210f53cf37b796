"""Settings for the test suite: PostgreSQL and Redis, as in production, plus a SQLite alias.

The SQLite alias exists so the append-only triggers are tested on the embedded default too.
"""

from __future__ import annotations

import os
import tempfile

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("SECRET_KEY", "tests-only-" + "k3y" * 20)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/signet")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CACHE_URL", os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
# Fuzzing and the concurrency tests call far faster than a client should; tests/core/test_throttles.py
# sets low rates where the limits are the point.
os.environ.setdefault("API_RATE_PER_TOKEN", "1000000/minute")
os.environ.setdefault("API_RATE_PER_ADDRESS", "1000000/minute")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# The mlflow client of the MLflow bridge's tests (tests/integrations) would report usage over the
# internet, which is not there; it reads this once, when it is first imported.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# A run's test database, files and cache keys are its own, so two runs on one machine (a developer's
# and CI's) cannot clobber each other. Processes a test starts inherit the run's id, and so share them.
# SIGNET_TEST_RUN_PID is the process that named the run: only it removes the run's folder.
if "SIGNET_TEST_RUN" not in os.environ:
    os.environ["SIGNET_TEST_RUN"] = str(os.getpid())
    os.environ["SIGNET_TEST_RUN_PID"] = str(os.getpid())
# A folder made for the run is removed after it (tests/conftest.py); one named by SIGNET_VAR_DIR stays.
os.environ.setdefault("SIGNET_TEST_OWNS_VAR_DIR", "false" if "SIGNET_VAR_DIR" in os.environ else "true")
os.environ.setdefault(
    "SIGNET_VAR_DIR", os.path.join(tempfile.gettempdir(), "signet-test-" + os.environ["SIGNET_TEST_RUN"])
)
# Under pytest-xdist the controller has named the run before it starts its workers, which inherit
# that name: each worker (gw0, gw1, ...) makes a run of its own inside it, with its own cache keys and
# a folder inside the controller's, so no worker empties another's cache or removes its files. The
# processes a worker's tests start inherit PYTEST_XDIST_WORKER and the worker's run, and keep both.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER and not os.environ["SIGNET_TEST_RUN"].endswith(f"_{_XDIST_WORKER}"):
    os.environ["SIGNET_TEST_RUN"] += f"_{_XDIST_WORKER}"
    os.environ["SIGNET_TEST_RUN_PID"] = str(os.getpid())
    os.environ["SIGNET_VAR_DIR"] = os.path.join(os.environ["SIGNET_VAR_DIR"], _XDIST_WORKER)

from portal.settings import *  # noqa: E402, F403 - after the environment above, which it reads
from portal.settings import CACHES, DATABASES, VAR_DIR, _database, _queues  # noqa: E402 - same

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("The test suite runs on PostgreSQL: set DATABASE_URL=postgres://...")

SIGNET_TEST_RUN = os.environ["SIGNET_TEST_RUN"]
# The tests of the audit chain record made-up events (test.event.recorded); apps/audit/actions.py.
AUDIT_TEST_ACTION_NAMESPACES = ("test",)
SIGNET_TEST_OWNS_VAR_DIR = os.environ["SIGNET_TEST_OWNS_VAR_DIR"] == "true"
# pytest-django adds a worker's ``_gwN`` to the test databases' names itself (to the SQLite file's too).
_RUN_OF_DATABASE = SIGNET_TEST_RUN.removesuffix(f"_{_XDIST_WORKER}") if _XDIST_WORKER else SIGNET_TEST_RUN
DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_RUN_OF_DATABASE}"}
CACHES["default"]["KEY_PREFIX"] = f"signet-test-{SIGNET_TEST_RUN}"
DATABASES["sqlite"] = _database(f"sqlite:///{VAR_DIR / 'unused.sqlite3'}")
DATABASES["sqlite"]["TEST"] = {"NAME": str(VAR_DIR / "test-sqlite.sqlite3")}


PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; production keeps PBKDF2
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# One queue per test run, so a worker started by a test never takes another run's messages.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("SIGNET_TEST_QUEUE") or f"signet-test-{os.getpid()}"
SIGNET_PERIODIC_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}-periodic"
CELERY_TASK_QUEUES, CELERY_TASK_ROUTES = _queues(CELERY_TASK_DEFAULT_QUEUE, SIGNET_PERIODIC_QUEUE)
