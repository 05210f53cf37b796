"""Signet settings, read from the environment (see the configuration table in README.md).

With nothing set, Signet runs on the embedded default: a SQLite file and a filesystem Celery broker
under ``var/``. ``DATABASE_URL`` and ``CELERY_BROKER_URL`` (or ``REDIS_URL``) switch to PostgreSQL
and Redis. With ``DEBUG`` off, start-up fails unless ``SECRET_KEY`` and ``ALLOWED_HOSTS`` are set.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from portal.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_rate,
    env_seconds_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SIGNET_VAR_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (for example 64 random characters).")
    # Development only: one random key per checkout, kept under var/ so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # First, so its audited changepassword command replaces django.contrib.auth's.
    "apps.accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_filters",
    "apps.core",
    "apps.audit",
    "apps.projects",
    "apps.registry",
    "apps.workflows",
    "apps.validation",
    "apps.notifications",
    "apps.portfolio",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "apps.core.middleware.RequestContextMiddleware",
    "apps.core.middleware.DatabaseUnavailableMiddleware",
    "apps.core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "apps.accounts.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

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
)


def _queues(default: str, periodic: str) -> tuple[tuple[Queue, ...], dict[str, dict[str, str]]]:
    """Return the queues a worker consumes by default and the routes of the periodic tasks."""
    queues = (Queue(default, routing_key=default), Queue(periodic, routing_key=periodic))
    return queues, {task: {"queue": periodic} for task in SIGNET_PERIODIC_TASKS}


CELERY_TASK_QUEUES, CELERY_TASK_ROUTES = _queues(CELERY_TASK_DEFAULT_QUEUE, SIGNET_PERIODIC_QUEUE)
CELERY_BEAT_SCHEDULE = {
    "audit-verify-chain": {"task": "apps.audit.tasks.audit_verify_chain", "schedule": 24 * 3600.0},
    "audit-checkpoint": {"task": "apps.audit.tasks.audit_checkpoint_sign", "schedule": AUDIT_CHECKPOINT_MINUTES * 60.0},
    "notifications-sweep": {"task": "apps.notifications.tasks.notifications_sweep", "schedule": 60.0},
    "workflows-reminders": {"task": "apps.workflows.tasks.workflow_reminders", "schedule": 3600.0},
    "validation-schedule": {"task": "apps.validation.tasks.validation_schedule", "schedule": 300.0},
}

# --- authentication and sessions ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:sign_in"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIGNET_SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1, maximum=24 * 60)
SIGNET_SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1, maximum=24 * 30)
SESSION_COOKIE_AGE = SIGNET_SESSION_MAX_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

SIGNET_LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1, maximum=100)
SIGNET_LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1, maximum=24 * 60)
SIGNET_API_TOKEN_DEFAULT_DAYS = env_int("API_TOKEN_DEFAULT_DAYS", 90, minimum=1, maximum=3650)
SIGNET_API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365, minimum=1, maximum=3650)
SIGNET_TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)

# --- security headers (``manage.py check --deploy`` is clean with production settings) -------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (pages, API, docs, error pages): nothing inline, nothing
# from elsewhere, never framed (docs/decisions/0014). data: images are Swagger UI's bundled icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# --- static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")) or VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")) or VAR_DIR / "media")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: every API view names the permission it needs.
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.permissions.DenyAll"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.JSONBodyParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    # ``?format=`` is ours (audit export as csv or jsonl), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rates are read from SIGNET_API_RATES when a request is checked (apps/core/api/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.api.throttles.TokenRateThrottle",
        "apps.core.api.throttles.AddressRateThrottle",
    ],
}
SIGNET_API_RATES = {
    "token": env_rate("API_RATE_PER_TOKEN", "1200/minute"),
    "address": env_rate("API_RATE_PER_ADDRESS", "300/minute"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Signet API",
    "DESCRIPTION": "Govern machine-learning models: projects, registry, reviews, validation, audit.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProjectStatusEnum": "apps.projects.choices.ProjectStatus",
        "VersionStatusEnum": "apps.registry.choices.VersionStatus",
        "RiskTierEnum": "apps.projects.choices.RiskTier",
        "ProjectRoleEnum": "apps.projects.choices.ProjectRole",
        "DecisionKindEnum": "apps.workflows.choices.DecisionKind",
        "FindingKindEnum": "apps.workflows.choices.FindingType",
        "FindingStatusEnum": "apps.workflows.choices.FindingStatus",
        "ReviewStatusEnum": "apps.workflows.choices.ReviewStatus",
        "NotificationEventEnum": "apps.notifications.choices.Event",
    },
}

# Messages live in the server-side session, not in a cookie: one of them shows a new webhook secret once.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- e-mail, logging ------------------------------------------------------------------------
# Without EMAIL_BACKEND, mail is printed to the console: fine with DEBUG on; in production start-up
# says so (apps/core/checks.py), since notifications would otherwise vanish without a word.
SIGNET_EMAIL_BACKEND_SET = env_str("EMAIL_BACKEND") is not None
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "signet@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 20
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

# --- workflows ---------------------------------------------------------------------------------
# A re-certification review opens, and the owners hear of it, this many days before an approval expires.
SIGNET_RECERT_REMIND_DAYS = env_int("RECERT_REMIND_DAYS", 30, minimum=1, maximum=365)

# --- validation ----------------------------------------------------------------------------------
# Each run's check process is limited to this much memory and CPU time; a hostile file hits the limit.
SIGNET_VALIDATION_MEMORY_MB = env_int("VALIDATION_MEMORY_MB", 4096, minimum=256, maximum=1024 * 1024)
# At most 100 minutes, so that with the task's margin it stays below the broker's visibility timeout (2 h).
SIGNET_VALIDATION_TIME_LIMIT_SECONDS = env_int("VALIDATION_TIME_LIMIT_SECONDS", 1800, minimum=5, maximum=6000)
SIGNET_VALIDATION_MAX_ATTEMPTS = env_int("VALIDATION_MAX_ATTEMPTS", 3, minimum=1, maximum=10)
# A worker's claim on a run lasts this long and a thread in the worker renews it every heartbeat while
# the check process lives, so a killed worker's run is taken over within lease + sweep (docs/decisions/0013).
SIGNET_VALIDATION_LEASE_SECONDS = env_int("VALIDATION_LEASE_SECONDS", 45, minimum=3, maximum=3600)
SIGNET_VALIDATION_HEARTBEAT_SECONDS = env_int("VALIDATION_HEARTBEAT_SECONDS", 10, minimum=1, maximum=1800)
if SIGNET_VALIDATION_HEARTBEAT_SECONDS * 2 > SIGNET_VALIDATION_LEASE_SECONDS:
    raise ImproperlyConfigured(
        "VALIDATION_HEARTBEAT_SECONDS must be at most half of VALIDATION_LEASE_SECONDS, so one late heartbeat "
        f"does not lose a live worker its run (now {SIGNET_VALIDATION_HEARTBEAT_SECONDS} and "
        f"{SIGNET_VALIDATION_LEASE_SECONDS})."
    )
# How often beat sweeps for runs to re-send, and how long a queued run's message may wait before the
# sweep sends another (a run whose message was never sent, the broker being down, goes at the next sweep).
SIGNET_VALIDATION_SWEEP_SECONDS = env_int("VALIDATION_SWEEP_SECONDS", 15, minimum=1, maximum=3600)
SIGNET_VALIDATION_RESEND_SECONDS = env_int("VALIDATION_RESEND_SECONDS", 120, minimum=1, maximum=24 * 3600)
CELERY_BEAT_SCHEDULE["validation-sweep"] = {
    "task": "apps.validation.tasks.validation_sweep",
    "schedule": float(SIGNET_VALIDATION_SWEEP_SECONDS),
}
# file:// artifact URIs inside these folders are hashed by the integrity check; others are not reachable.
SIGNET_ARTIFACT_ROOTS = env_list("ARTIFACT_ROOTS", [str(VAR_DIR / "artifacts")])

# --- notifications and webhooks -------------------------------------------------------------
# Links in e-mails and webhook payloads start with this address.
SIGNET_BASE_URL = env_url("SIGNET_BASE_URL", "http://localhost:8000", schemes=("http", "https"))
SIGNET_WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
# Waits after the 1st, 2nd, ... failed attempt; one attempt more than delays, then the delivery is given up.
# Webhooks go to public addresses; internal receivers need their network allowed here (CIDRs, comma-separated).
SIGNET_WEBHOOK_ALLOWED_NETWORKS = env_networks("WEBHOOK_ALLOWED_NETWORKS")
SIGNET_WEBHOOK_RETRY_DELAYS = env_seconds_list("WEBHOOK_RETRY_DELAYS", [30, 120, 600, 3600, 6 * 3600])

# Every line carries the request id and the acting user (apps/core/logs.py); JSON in production.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain" if DEBUG else "json", choices=("json", "plain"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "apps.core.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s [request=%(request_id)s user=%(user)s]"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "message", "request_id", "user_id", "auth_method"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- registry ------------------------------------------------------------------------------------
# Model card sections each risk tier requires (an unqualified project is held to "high").
SIGNET_CARD_REQUIRED_SECTIONS = {
    "high": [
        "intended_use",
        "out_of_scope_use",
        "training_data",
        "evaluation",
        "limitations",
        "ethical_considerations",
        "monitoring_plan",
        "human_oversight",
    ],
    "medium": ["intended_use", "training_data", "evaluation", "limitations", "monitoring_plan"],
    "low": ["intended_use", "evaluation", "limitations"],
}
SIGNET_MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 512 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_HANDLERS = [
    "apps.registry.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_PERMISSIONS = 0o640
