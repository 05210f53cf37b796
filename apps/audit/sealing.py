"""Services that check and seal the whole trail: verification recorded in it, signed checkpoints.

Split from services.py (which appends events): these read the chain end to end and write one event
through ``audit_record`` each.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.utils import timezone

from apps.audit import selectors
from apps.audit.actions import Action
from apps.audit.chain import Checkpoint, SignedCheckpoint, VerifyResult, format_time, verify
from apps.audit.models import AuditCheckpoint, AuditEvent
from apps.audit.permissions import can_verify_audit_trail
from apps.audit.services import _lock_chain, audit_record
from apps.audit.signing import configured_signing_key, key_id, load_public_keys, sign, signature_problem
from apps.audit.verification import CHECKPOINT_ACTION, verify_trail

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from apps.accounts.models import User

logger = logging.getLogger(__name__)


def audit_chain_verify(
    *, actor: User | None, checkpoint: Checkpoint | None = None, checkpoint_files: Sequence[Path] = ()
) -> VerifyResult:
    """Verify the whole trail (chain, recorded head, signed checkpoints) and record the outcome in it.

    Side effects: one ``audit.chain.verified`` or ``audit.chain.broken`` event (appended after the
    walk, so it never changes what was verified). Raises PermissionDenied for a person who may not
    verify (``actor=None`` is the scheduled task), and, when it cannot check at all,
    signing.AuditKeyError or verification.CheckpointFileError without recording anything.
    """

    if actor is not None and not can_verify_audit_trail(actor):
        raise PermissionDenied("Only the audit team and administrators can verify the audit trail.")
    result = verify_trail(checkpoint=checkpoint, checkpoint_files=checkpoint_files)
    audit_record(
        actor=actor,
        action=Action.CHAIN_VERIFIED if result.ok else Action.CHAIN_BROKEN,
        data={
            "checked": result.checked,
            "head": str(result.head) if result.head else None,
            "broken_seq": result.broken_seq,
            "reason": result.reason,
            "checkpoint": str(checkpoint) if checkpoint else None,
            "signed_checkpoints": result.signed_checkpoints,
            "unchecked_signatures": result.unchecked_signatures,
        },
    )
    return result


class AuditChainBroken(Exception):
    """The chain since the last signed checkpoint does not verify: nothing may be signed over it."""


def _last_checkpoint_problem(*, using: str, latest: SignedCheckpoint, public_key: Ed25519PublicKey) -> str | None:
    """Return why the last checkpoint cannot be built on: a bad signature, or the chain moved under it."""

    # After a key rotation the last checkpoint carries the old key, listed in AUDIT_VERIFY_KEY_FILE.
    keys = {key_id(public_key): public_key}
    if settings.AUDIT_VERIFY_KEY_FILE:
        keys.update(load_public_keys(Path(settings.AUDIT_VERIFY_KEY_FILE)))
    problem = signature_problem(latest.as_dict(), keys)
    if problem:
        return f"the last checkpoint (seq {latest.seq}) does not hold: {problem}"
    at_seq = AuditEvent.objects.using(using).filter(seq=latest.seq).values_list("hash", flat=True).first()
    if at_seq != latest.head_hash:
        return f"the event at seq {latest.seq} is gone or no longer has the hash the last checkpoint signed"
    return None


def _walk_from(*, using: str, start: Checkpoint | None, head: Checkpoint | None = None) -> VerifyResult:
    events = selectors.audit_chain(using=using, after_seq=start.seq if start else 0)
    return verify(events, [head] if head else None, start=start)


def audit_checkpoint_sign(*, actor: User | None = None, using: str = "default") -> AuditCheckpoint | None:
    """Sign the chain's head with the configured key and store the checkpoint; None if nothing is new.

    Before signing, verifies the last checkpoint's signature and the chain from it to the head, so a
    signature never covers a chain that was already broken (most of the walk happens before taking
    the chain lock, so writers wait only for the events written meanwhile). Side effects, in one
    transaction under the chain lock: one ``AuditCheckpoint`` row and one ``audit.checkpoint.signed``
    event holding it; after commit, one line appended to ``AUDIT_CHECKPOINT_FILE`` when it is set.
    Raises PermissionDenied for a person who may not verify the trail (``actor=None`` is the task or
    the command line), ImproperlyConfigured when no signing key is set or it cannot be read, and
    AuditChainBroken when the chain since the last checkpoint does not verify.
    """

    if actor is not None and not can_verify_audit_trail(actor):
        raise PermissionDenied("Only the audit team and administrators can sign audit checkpoints.")
    private_key = configured_signing_key()
    if private_key is None:
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY_FILE is not set: there is no key to sign checkpoints with")
    public_key = private_key.public_key()

    def latest_checkpoint() -> SignedCheckpoint | None:
        row = AuditCheckpoint.objects.using(using).order_by("-seq").first()
        return SignedCheckpoint.from_row(row) if row else None

    latest = latest_checkpoint()
    problem = _last_checkpoint_problem(using=using, latest=latest, public_key=public_key) if latest else None
    start = latest.anchor("the last signed checkpoint") if latest else None
    walked = _walk_from(using=using, start=start)
    if problem or not walked.ok:
        raise AuditChainBroken(problem or f"the chain is broken at seq {walked.broken_seq}: {walked.reason}")
    with transaction.atomic(using=using):
        _lock_chain(using)
        if latest_checkpoint() != latest:
            return None  # another signer took one meanwhile
        newest = AuditEvent.objects.using(using).order_by("-seq").values("seq", "hash", "action").first()
        if newest is None:
            return None
        head = Checkpoint(newest["seq"], newest["hash"], label="the chain's head")
        if latest is not None and (
            head.seq == latest.seq or (head.seq == latest.seq + 1 and newest["action"] == CHECKPOINT_ACTION)
        ):
            return None  # nothing happened since the last checkpoint but the checkpoint itself
        tail = _walk_from(using=using, start=walked.head, head=head)
        if not tail.ok:
            raise AuditChainBroken(f"the chain is broken at seq {tail.broken_seq}: {tail.reason}")
        recorded = selectors.audit_recorded_head(using=using)
        if recorded is None or (recorded.seq, recorded.hash) != (head.seq, head.hash):
            raise AuditChainBroken(f"the recorded head ({recorded or 'none'}) is not the chain's head ({head})")
        signed_at = timezone.now()
        fields: dict[str, Any] = {
            "seq": head.seq,
            "head_hash": head.hash,
            "signed_at": format_time(signed_at),
            "key_id": key_id(public_key),
        }
        row = AuditCheckpoint.objects.using(using).create(
            seq=head.seq,
            head_hash=head.hash,
            signed_at=signed_at,
            key_id=fields["key_id"],
            signature=sign(private_key, fields),
        )
        point = SignedCheckpoint.from_row(row)
        audit_record(
            actor=actor,
            action=CHECKPOINT_ACTION,
            target=row,
            target_repr=f"checkpoint {head.seq}",
            data=point.as_dict(),
            using=using,
        )
        transaction.on_commit(lambda: _append_to_checkpoint_file(point), using=using)
    return row


def _append_to_checkpoint_file(point: SignedCheckpoint) -> None:
    path = settings.AUDIT_CHECKPOINT_FILE
    if not path:
        return
    try:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(point.as_dict(), sort_keys=True, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        # The checkpoint is committed in the table and the chain; the file is a copy. Say so loudly.
        logger.exception("could not append signed checkpoint %s to %s", point.seq, path)
