"""The database, the cache, the Celery broker, its queues and the periodic schedule."""

from __future__ import annotations

from typing import Any

import dj_database_url
from kombu import Queue

from portal.env import env_int, env_str, env_url
from portal.settings.base import VAR_DIR
from portal.settings.domain import SIGNET_MLFLOW_RECONCILE_MINUTES, SIGNET_MONITORING_INGEST_SECONDS

# --- database -------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", None, schemes=("postgres", "postgresql", "pgsql", "sqlite"))


def _database(url: str | None) -> dict[str, Any]:
    if url is None or url.startswith("sqlite"):
        # sqlite:///relative.db, sqlite:////absolute/path.db, sqlite://:memory: as dj-database-url reads them
        name = dj_database_url.parse(url)["NAME"] if url else str(VAR_DIR / "signet.sqlite3")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {
                # Every transaction takes the write lock when it begins, so the audit chain's
                # read-then-append never races and never dead-locks on a lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
            },
        }
    return dict(
        dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0), conn_health_checks=True)
    )


DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, broker --------------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", None, schemes=("redis", "rediss"))
CACHE_URL = env_url("CACHE_URL", REDIS_URL, schemes=("redis", "rediss", "locmem"))
if CACHE_URL and CACHE_URL.startswith("redis"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # A Redis host that drops packets must not hang a sign-in: fail fast, the throttle falls back (0015).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
elif CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # Shared by the web server and the worker processes of the embedded default.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", REDIS_URL or "filesystem://localhost/", schemes=("redis", "rediss", "filesystem", "memory")
)
CELERY_BROKER_FOLDER = VAR_DIR / "celery"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {}
if CELERY_BROKER_URL and CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        # Otherwise kombu writes its exchange tables to ./control in whatever folder the process started.
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL and CELERY_BROKER_URL.startswith("redis"):
    # Above the longest task time limit, so a slow task is not handed to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 3600
CELERY_TASK_SOFT_TIME_LIMIT = 3300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Workers log through LOGGING below (JSON in production, with the context fields), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Signed checkpoints of the audit chain (docs/audit.md). The private key is a file, never a database row.
AUDIT_SIGNING_KEY_FILE = env_str("AUDIT_SIGNING_KEY_FILE")
AUDIT_VERIFY_KEY_FILE = env_str("AUDIT_VERIFY_KEY_FILE")
AUDIT_CHECKPOINT_FILE = env_str("AUDIT_CHECKPOINT_FILE")
AUDIT_CHECKPOINT_MINUTES = env_int("AUDIT_CHECKPOINT_MINUTES", 60, minimum=1, maximum=24 * 60)
# Periodic and recovery work has a queue of its own, so a backlog of validation runs on the default
# queue never holds up the sweep that re-sends lost runs, the audit checkpoint or the reminders.
# A plain `celery worker` consumes both queues; production runs one small worker on "periodic" alone
# (README, docs/decisions/0013).
CELERY_TASK_DEFAULT_QUEUE = "celery"
SIGNET_PERIODIC_QUEUE = "periodic"
SIGNET_PERIODIC_TASKS = (
    "apps.audit.tasks.audit_verify_chain",
    "apps.audit.tasks.audit_checkpoint_sign",
    "apps.notifications.tasks.notifications_sweep",
    "apps.workflows.tasks.workflow_reminders",
    "apps.validation.tasks.validation_sweep",
    "apps.validation.tasks.validation_schedule",
    "apps.integrations.tasks.reconcile_all",
    "apps.integrations.tasks.reconcile_connection",
    "apps.monitoring.tasks.monitoring_sweep",
    "apps.monitoring.tasks.monitoring_feeds",
    "apps.monitoring.tasks.monitoring_ingest",
)


def _queues(default: str, periodic: str) -> tuple[tuple[Queue, ...], dict[str, dict[str, str]]]:
    """Return the queues a worker consumes by default and the routes of the periodic tasks."""
    queues = (Queue(default, routing_key=default), Queue(periodic, routing_key=periodic))
    return queues, {task: {"queue": periodic} for task in SIGNET_PERIODIC_TASKS}


CELERY_TASK_QUEUES, CELERY_TASK_ROUTES = _queues(CELERY_TASK_DEFAULT_QUEUE, SIGNET_PERIODIC_QUEUE)
# How often beat sweeps for runs to re-send, and how long a queued run's message may wait before the
# sweep sends another (a run whose message was never sent, the broker being down, goes at the next sweep).
SIGNET_VALIDATION_SWEEP_SECONDS = env_int("VALIDATION_SWEEP_SECONDS", 15, minimum=1, maximum=3600)
SIGNET_VALIDATION_RESEND_SECONDS = env_int("VALIDATION_RESEND_SECONDS", 120, minimum=1, maximum=24 * 3600)
CELERY_BEAT_SCHEDULE = {
    "audit-verify-chain": {"task": "apps.audit.tasks.audit_verify_chain", "schedule": 24 * 3600.0},
    "audit-checkpoint": {"task": "apps.audit.tasks.audit_checkpoint_sign", "schedule": AUDIT_CHECKPOINT_MINUTES * 60.0},
    "notifications-sweep": {"task": "apps.notifications.tasks.notifications_sweep", "schedule": 60.0},
    "workflows-reminders": {"task": "apps.workflows.tasks.workflow_reminders", "schedule": 3600.0},
    "validation-schedule": {"task": "apps.validation.tasks.validation_schedule", "schedule": 300.0},
    "mlflow-reconcile": {
        "task": "apps.integrations.tasks.reconcile_all",
        "schedule": SIGNET_MLFLOW_RECONCILE_MINUTES * 60.0,
    },
    "validation-sweep": {
        "task": "apps.validation.tasks.validation_sweep",
        "schedule": float(SIGNET_VALIDATION_SWEEP_SECONDS),
    },
    # Batches are leased like validation runs, and swept as often (docs/monitoring.md).
    "monitoring-sweep": {
        "task": "apps.monitoring.tasks.monitoring_sweep",
        "schedule": float(SIGNET_VALIDATION_SWEEP_SECONDS),
    },
    "monitoring-feeds": {"task": "apps.monitoring.tasks.monitoring_feeds", "schedule": 300.0},
    # Sends a reading of each monitor's source (docs/monitoring.md, "From a folder or a storage URI").
    "monitoring-ingest": {
        "task": "apps.monitoring.tasks.monitoring_ingest",
        "schedule": float(SIGNET_MONITORING_INGEST_SECONDS),
    },
}
