"""Periodic verification of the audit chain."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from apps.audit.services import audit_chain_verify
from apps.core.choices import AuthMethod
from apps.core.context import set_auth_method

logger = logging.getLogger(__name__)


@shared_task(name="apps.audit.tasks.audit_verify_chain")
def audit_verify_chain(actor_id: int | None = None) -> dict[str, Any]:
    """Verify the chain (scheduled daily, or started by an auditor) and record the outcome."""
    from apps.accounts.models import User

    set_auth_method(AuthMethod.TASK)
    actor = User.objects.filter(pk=actor_id, is_active=True).first() if actor_id else None
    result = audit_chain_verify(actor=actor)
    if not result.ok:
        logger.error("audit chain broken at seq %s: %s", result.broken_seq, result.reason)
    return {"ok": result.ok, "checked": result.checked, "broken_seq": result.broken_seq, "reason": result.reason}
