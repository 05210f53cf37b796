"""Log lines that say which request and which person they belong to.

Every record gets ``request_id``, ``user_id`` and ``auth_method`` from the actor context
(apps/core/context.py), bound by the request middleware, the authentication and the workers. In
production the lines are JSON objects (``LOG_FORMAT=json``, the default with DEBUG off), one per
line, for a log collector; in development they are plain text with the same fields at the end.
"""

from __future__ import annotations

import logging

from apps.core import context


class ContextFilter(logging.Filter):
    """Copy the actor context onto each record (a filter on the handler, so every logger gets it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        now = context.current()
        record.request_id = now.request_id or "-"
        record.user_id = now.user_id  # a number, or None (null in JSON: one type for log collectors)
        record.user = "-" if now.user_id is None else now.user_id
        record.auth_method = now.auth_method
        return True
