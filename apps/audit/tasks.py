"""Periodic verification of the audit chain and signed checkpoints of its head."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.audit.sealing import AuditChainBroken, audit_chain_verify, audit_checkpoint_sign
from apps.core.choices import AuthMethod
from apps.core.context import set_auth_method

logger = logging.getLogger(__name__)


@shared_task(name="apps.audit.tasks.audit_verify_chain")
def audit_verify_chain(actor_id: int | None = None) -> dict[str, Any]:
    """Verify the chain (scheduled daily, or started by an auditor) and record the outcome."""
    set_auth_method(AuthMethod.TASK)
    actor = get_user_model().objects.filter(pk=actor_id, is_active=True).first() if actor_id else None
    result = audit_chain_verify(actor=actor)
    if not result.ok:
        logger.error("audit chain broken at seq %s: %s", result.broken_seq, result.reason)
    elif result.unchecked_signatures:
        logger.warning(
            "audit chain intact, but %s checkpoint signatures were not checked: set AUDIT_VERIFY_KEY_FILE",
            result.unchecked_signatures,
        )
    return {"ok": result.ok, "checked": result.checked, "broken_seq": result.broken_seq, "reason": result.reason}


@shared_task(name="apps.audit.tasks.audit_checkpoint_sign")
def audit_checkpoint_sign_task() -> dict[str, Any]:
    """Sign the chain's head (scheduled every AUDIT_CHECKPOINT_MINUTES); skip, saying so, without a key."""
    set_auth_method(AuthMethod.TASK)
    if not settings.AUDIT_SIGNING_KEY_FILE:
        logger.warning("audit checkpoint skipped: AUDIT_SIGNING_KEY_FILE is not set (see docs/audit.md)")
        return {"signed": False, "reason": "AUDIT_SIGNING_KEY_FILE is not set"}
    try:
        checkpoint = audit_checkpoint_sign(actor=None)
    except AuditChainBroken as exc:
        logger.error("audit checkpoint refused, the chain does not verify: %s", exc)
        return {"signed": False, "reason": str(exc)}
    if checkpoint is None:
        return {"signed": False, "reason": "nothing new since the last checkpoint"}
    logger.info("audit checkpoint signed at seq %s with key %s", checkpoint.seq, checkpoint.key_id)
    return {"signed": True, "seq": checkpoint.seq, "head_hash": checkpoint.head_hash, "key_id": checkpoint.key_id}
