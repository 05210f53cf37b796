"""Signet's project package: settings, URLs, WSGI/ASGI and the Celery app."""

from __future__ import annotations

from portal.celery import app as celery_app

__all__ = ("celery_app",)
