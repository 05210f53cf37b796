"""Verify the whole trail: every link, the stored head, and every signed checkpoint.

Signed checkpoints come from three places that check each other: the checkpoint table, the
``audit.checkpoint.signed`` event each one leaves in the chain, and checkpoint files kept elsewhere
(``--checkpoint-file``). docs/audit.md says what this detects and what it cannot.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from apps.audit import selectors
from apps.audit.actions import Action
from apps.audit.chain import Checkpoint, SignedCheckpoint, VerifyResult, verify
from apps.audit.signing import configured_verify_keys, signature_problem
from apps.audit.stretches import STRETCH, can_walk_in_stretches, verify_in_stretches

CHECKPOINT_ACTION = Action.CHECKPOINT_SIGNED


class CheckpointFileError(ValueError):
    """A checkpoint file cannot be read or holds something that is not a signed checkpoint."""


def read_checkpoint_file(path: Path) -> list[SignedCheckpoint]:
    """Read a JSON Lines file of signed checkpoints (as ``AUDIT_CHECKPOINT_FILE`` holds them)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointFileError(f"cannot read the checkpoint file {path}: {exc}") from exc
    checkpoints = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            checkpoints.append(SignedCheckpoint.from_mapping(json.loads(line)))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            raise CheckpointFileError(f"{path}, line {number}: not a signed checkpoint ({exc})") from exc
    return checkpoints


@dataclass(frozen=True)
class RecordedCheckpointIsStored:
    """The event check of the walk: an ``audit.checkpoint.signed`` event names a checkpoint that is stored.

    An object, not a closure, so that the workers of a walk in stretches receive it.
    """

    stored_at: dict[int, SignedCheckpoint]
    using: str

    def __call__(self, event: Mapping[str, Any]) -> str | None:
        if event["action"] != CHECKPOINT_ACTION:
            return None
        try:
            point = SignedCheckpoint.from_mapping(event["data"])
        except ValueError as exc:
            return f"it records a checkpoint that cannot be read: {exc}"
        if point.seq != event["seq"] - 1 or point.head_hash != event["prev_hash"]:
            return "it records a checkpoint of another event than the one before it"
        # Read again on a miss: a checkpoint may have been taken since the table was read.
        found = self.stored_at.get(point.seq) or selectors.audit_checkpoint_at(seq=point.seq, using=self.using)
        if found != point:
            where = "is missing from" if found is None else "differs from the one in"
            return f"the checkpoint {point.seq} it records {where} the checkpoint table: checkpoints were removed"
        return None


def _broken(seq: int, reason: str, signed: int = 0, unchecked: int = 0) -> VerifyResult:
    return VerifyResult(False, 0, None, seq, reason, signed_checkpoints=signed, unchecked_signatures=unchecked)


def verify_trail(
    *,
    using: str = "default",
    checkpoint: Checkpoint | None = None,
    checkpoint_files: Sequence[Path] = (),
    public_keys: Mapping[str, Ed25519PublicKey] | None = None,
    use_configured_keys: bool = True,
    batch_size: int = selectors.CHAIN_BATCH_SIZE,
    workers: int = 1,
    stretch: int = STRETCH,
) -> VerifyResult:
    """Verify the chain against its recorded head and every signed checkpoint; return the first break.

    Signatures are checked with ``public_keys``, else the configured verification keys; with none,
    they are counted as unchecked. Raises CheckpointFileError for an unreadable checkpoint file and
    signing.AuditKeyError for an unreadable key: both mean "could not check", not "broken". The chain
    is read ``batch_size`` events a query, so memory does not grow with the trail. With ``workers`` above
    1 (PostgreSQL, outside a transaction), stretches of the chain are walked by that many forked
    processes (``apps/audit/stretches.py``); the result is the same.
    """
    keys = public_keys if public_keys is not None else (configured_verify_keys() if use_configured_keys else None)
    recorded = selectors.audit_recorded_head(using=using)
    stored = selectors.audit_checkpoints(using=using)
    from_files = [(path, point) for path in checkpoint_files for point in read_checkpoint_file(path)]

    signed = unchecked = 0
    labelled = [(f"signed checkpoint {p.seq}", p) for p in stored]
    labelled += [(f"signed checkpoint {p.seq} in {path}", p) for path, p in from_files]
    for label, point in labelled:
        if keys is None:
            unchecked += 1
            continue
        problem = signature_problem(point.as_dict(), keys)
        if problem:
            return _broken(point.seq, f"{label}: {problem}")
        signed += 1

    stored_at = {p.seq: p for p in stored}
    for path, point in from_files:
        if stored_at.get(point.seq) != point:
            where = "is missing from" if point.seq not in stored_at else "differs from the one in"
            return _broken(
                point.seq,
                f"signed checkpoint {point.seq} in {path} {where} the checkpoint table: checkpoints were removed",
                signed,
                unchecked,
            )

    anchors = [p.anchor(f"signed checkpoint {p.seq}") for p in stored]
    anchors += [p.anchor(f"signed checkpoint {p.seq} in {path}") for path, p in from_files]
    anchors += [a for a in (recorded, checkpoint) if a is not None]
    check = RecordedCheckpointIsStored(stored_at, using)
    if workers > 1 and can_walk_in_stretches(using):
        walked = verify_in_stretches(
            using=using, anchors=anchors, event_check=check, batch_size=batch_size, workers=workers, size=stretch
        )
    else:
        walked = verify(selectors.audit_chain(using=using, batch_size=batch_size), anchors, event_check=check)
    result = replace(
        walked,
        signed_checkpoints=signed,
        unchecked_signatures=unchecked,
    )
    if not result.ok:
        return result
    # Read after the walk: every event committed before it is counted in the head by now.
    after = selectors.audit_recorded_head(using=using)
    limit = after.seq if after else 0
    if result.checked > limit:
        said = f"the recorded head is at seq {limit}" if after else "no head is recorded"
        return replace(
            result,
            ok=False,
            broken_seq=limit + 1,
            reason=f"it lies past the end of the chain ({said}): it was added without Signet's audit writer",
        )
    return result
