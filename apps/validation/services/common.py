"""What the validation services share: the refusal message, suite cleaning, enqueueing after commit."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.queue import enqueue
from apps.validation.choices import RunStatus
from apps.validation.engine import SpecError, parse_spec
from apps.validation.models import ValidationRun

logger = logging.getLogger("apps.validation.services")
VALIDATE_DENIED = "Only the project's owners, developers and validators run validation checks."


def clean_spec(spec: object) -> dict[str, Any]:
    """Return the suite JSON normalised; raise ValidationError on ``spec`` saying what is wrong."""
    try:
        return parse_spec(spec).to_dict()
    except SpecError as exc:
        raise ValidationError({"spec": str(exc)}) from None
    except RecursionError:
        raise ValidationError({"spec": "This suite is nested too deeply to be a suite."}) from None


# Sent by name (apps/core/queue.py): apps.validation.tasks imports these services.
EXECUTE_RUN = "apps.validation.tasks.execute_run"


def enqueue_after_commit(run_id: int, countdown: float = 0) -> None:
    """Send ``execute_run`` once the transaction commits; a broker that is down leaves it to the sweep."""

    def send() -> None:
        try:
            enqueue(EXECUTE_RUN, run_id, countdown=countdown)
        except Exception:  # noqa: BLE001 - kombu's errors while the broker is down vary; the run is safe
            # The run is committed: mark its message as never sent, and the next sweep sends it.
            logger.warning("validation run %s: the broker is unreachable; the sweep sends the run later", run_id)
            ValidationRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(enqueued_at=None)

    transaction.on_commit(send, robust=True)
