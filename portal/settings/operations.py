"""E-mail and logging."""

from __future__ import annotations

from portal.env import env_bool, env_choice, env_int, env_str
from portal.settings.base import DEBUG, VAR_DIR

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
