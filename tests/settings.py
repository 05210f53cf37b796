"""Settings for the test suite: PostgreSQL and Redis, as in production, plus a SQLite alias.

The SQLite alias exists so the append-only triggers are tested on the embedded default too.
"""

from __future__ import annotations

import os
import tempfile

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
# A run's test database, files and cache keys are its own, so two runs on one machine (a developer's
# and CI's) cannot clobber each other. Processes a test starts inherit the run's id, and so share them.
os.environ.setdefault("SIGNET_TEST_RUN", str(os.getpid()))
# A folder made for the run is removed after it (tests/conftest.py); one named by SIGNET_VAR_DIR stays.
os.environ.setdefault("SIGNET_TEST_OWNS_VAR_DIR", "false" if "SIGNET_VAR_DIR" in os.environ else "true")
os.environ.setdefault(
    "SIGNET_VAR_DIR", os.path.join(tempfile.gettempdir(), "signet-test-" + os.environ["SIGNET_TEST_RUN"])
)

from django.core.exceptions import ImproperlyConfigured

from portal.settings import *  # noqa: F403
from portal.settings import CACHES, DATABASES, VAR_DIR, _database, _queues

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("The test suite runs on PostgreSQL: set DATABASE_URL=postgres://...")

SIGNET_TEST_RUN = os.environ["SIGNET_TEST_RUN"]
# The tests of the audit chain record made-up events (test.event.recorded); apps/audit/actions.py.
AUDIT_TEST_ACTION_NAMESPACES = ("test",)
SIGNET_TEST_OWNS_VAR_DIR = os.environ["SIGNET_TEST_OWNS_VAR_DIR"] == "true"
DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{SIGNET_TEST_RUN}"}
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
