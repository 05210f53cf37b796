"""Send a Celery task by its name, so a service can start the task that calls it without importing it.

A task module imports its app's services (tasks are thin: ids in, a service call); a service that
imported the task module back would close a cycle. Task names are their module path and function
name (``@shared_task`` without ``name=``), the same string the routes and the beat schedule use.
"""

from __future__ import annotations

from typing import Any

from celery import current_app


def enqueue(task: str, *args: Any, countdown: float | None = None) -> None:
    """Queue ``task`` with positional ``args`` (the caller decides whether to wait for the commit)."""
    current_app.send_task(task, args=args, countdown=countdown)
