"""Signet settings, read from the environment (see the configuration table in README.md).

With nothing set, Signet runs on the embedded default: a SQLite file and a filesystem Celery broker
under ``var/``. ``DATABASE_URL`` and ``CELERY_BROKER_URL`` (or ``REDIS_URL``) switch to PostgreSQL
and Redis. With ``DEBUG`` off, start-up fails unless ``SECRET_KEY`` and ``ALLOWED_HOSTS`` are set.

One module per concern; ``DJANGO_SETTINGS_MODULE=portal.settings`` reads them all through this package.
"""

from __future__ import annotations

from portal.settings.api import *  # noqa: F403
from portal.settings.base import *  # noqa: F403
from portal.settings.data import *  # noqa: F403
from portal.settings.data import _database, _queues  # noqa: F401  # tests/settings.py builds on them
from portal.settings.domain import *  # noqa: F403
from portal.settings.operations import *  # noqa: F403
from portal.settings.security import *  # noqa: F403
