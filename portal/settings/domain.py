"""Signet's own knobs: workflows, validation, notifications and webhooks, the registry."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from portal.env import env_int, env_list, env_networks, env_seconds_list, env_str, env_url
from portal.settings.base import VAR_DIR

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
# file:// artifact URIs inside these folders are hashed by the integrity check; others are not reachable.
SIGNET_ARTIFACT_ROOTS = env_list("ARTIFACT_ROOTS", [str(VAR_DIR / "artifacts")])

# --- monitoring ----------------------------------------------------------------------------------
# A batch sent as JSON rows holds at most this many rows (larger ones go as a file); any batch at most
# this many columns (a wider one is refused from its header, before its rows are read).
SIGNET_MONITORING_MAX_JSON_ROWS = env_int("MONITORING_MAX_JSON_ROWS", 100_000, minimum=1, maximum=10_000_000)
SIGNET_MONITORING_MAX_COLUMNS = env_int("MONITORING_MAX_COLUMNS", 2000, minimum=2, maximum=2000)
# Monitors may read batches from a folder or a storage location only inside these roots (comma-separated):
# absolute folders of this machine, or storage://<prefix> in the ingest storage (MONITORING_INGEST_STORAGE_*
# in base.py). None by default: an administrator names them. docs/monitoring.md, "From a folder or a storage URI".
SIGNET_MONITORING_INGEST_ROOTS = env_list("MONITORING_INGEST_ROOTS", [])
if any(not (root.startswith("/") or root.startswith("storage://")) for root in SIGNET_MONITORING_INGEST_ROOTS):
    raise ImproperlyConfigured("MONITORING_INGEST_ROOTS holds absolute folders (/...) or storage://<prefix> locations")
# Beat reads every monitor's source this often; a file changed less than SETTLE seconds ago waits for the
# next reading (a writer may not have finished it); one reading takes at most MAX_FILES files.
SIGNET_MONITORING_INGEST_SECONDS = env_int("MONITORING_INGEST_SECONDS", 60, minimum=5, maximum=24 * 3600)
SIGNET_MONITORING_INGEST_SETTLE_SECONDS = env_int("MONITORING_INGEST_SETTLE_SECONDS", 10, minimum=0, maximum=3600)
SIGNET_MONITORING_INGEST_MAX_FILES = env_int("MONITORING_INGEST_MAX_FILES", 100, minimum=1, maximum=10_000)
# KPI values are linked to the deployment in this environment at their time.
SIGNET_MONITORING_PRODUCTION_ENVIRONMENT = env_str("MONITORING_PRODUCTION_ENVIRONMENT", "production") or "production"

# --- the MLflow bridge ---------------------------------------------------------------------------
# Connections read their token or password from SIGNET_MLFLOW_* variables or from files in this folder.
SIGNET_SECRETS_DIR = env_str("SECRETS_DIR", "/run/secrets")
# Beat queues a full reconcile of every enabled connection this often (webhooks bring changes sooner).
SIGNET_MLFLOW_RECONCILE_MINUTES = env_int("MLFLOW_RECONCILE_MINUTES", 10, minimum=1, maximum=24 * 60)

# --- notifications and webhooks -------------------------------------------------------------
# Links in e-mails and webhook payloads start with this address.
SIGNET_BASE_URL = env_url("SIGNET_BASE_URL", "http://localhost:8000", schemes=("http", "https"))
SIGNET_WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
# Waits after the 1st, 2nd, ... failed attempt; one attempt more than delays, then the delivery is given up.
# Webhooks go to public addresses; internal receivers need their network allowed here (CIDRs, comma-separated).
SIGNET_WEBHOOK_ALLOWED_NETWORKS = env_networks("WEBHOOK_ALLOWED_NETWORKS")
SIGNET_WEBHOOK_RETRY_DELAYS = env_seconds_list("WEBHOOK_RETRY_DELAYS", [30, 120, 600, 3600, 6 * 3600])

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
