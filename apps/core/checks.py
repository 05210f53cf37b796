"""Start-up checks: production says what it cannot do instead of failing quietly later."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

logger = logging.getLogger("signet.startup")

EMAIL_NOT_SET = (
    "E-mail is not configured (EMAIL_BACKEND is not set): notifications are printed to the console "
    "of each process, and nobody receives them by e-mail."
)
EMAIL_HINT = (
    "Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST, EMAIL_PORT and, if "
    "needed, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD and EMAIL_USE_TLS (README, Configuration)."
)


def email_unset() -> bool:
    return not settings.DEBUG and not settings.SIGNET_EMAIL_BACKEND_SET


@register()
def email_backend_is_set(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not email_unset():
        return []
    return [Warning(EMAIL_NOT_SET, hint=EMAIL_HINT, id="signet.W001")]


def log_startup_warnings() -> None:
    """For the processes that run no system checks (gunicorn, Celery workers)."""
    if email_unset():
        logger.warning("%s %s", EMAIL_NOT_SET, EMAIL_HINT)
