"""The hash chain: canonical form of an event, its hash, and verification of a stream of events.

Hash of event n = SHA-256(prev_hash of n as 32 raw bytes || canonical JSON of n), where the canonical
JSON has sorted keys, UTF-8, no whitespace, and the fields of ``CHAINED_FIELDS``. Event 1 chains
from 32 zero bytes. docs/audit.md states the same for anyone writing an independent verifier.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apps.core.ids import parse_id

GENESIS_HASH = "0" * 64

CHAINED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_roles",
    "auth_method",
    "request_id",
    "ip",
    "project_pk",
    "project_slug",
    "target_type",
    "target_id",
    "target_repr",
    "action",
    "changes",
    "data",
)


def format_time(moment: datetime) -> str:
    """Return the canonical text of a time: UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(fields: Mapping[str, Any]) -> bytes:
    """Return the canonical JSON bytes of an event's chained fields."""
    payload = {name: fields[name] for name in CHAINED_FIELDS}
    if isinstance(payload["occurred_at"], datetime):
        payload["occurred_at"] = format_time(payload["occurred_at"])
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def compute_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """Return the hex SHA-256 of the previous hash (raw bytes) followed by the canonical JSON."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_json(fields)).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse ``SEQ:HASH``; raise ValueError with a readable message otherwise."""
        seq_text, sep, hash_text = text.strip().partition(":")
        seq = parse_id(seq_text)
        if not sep or seq is None:
            raise ValueError("a checkpoint is SEQ:HASH, for example 42:3f5a…, with SEQ a positive number")
        hash_text = hash_text.lower()
        if len(hash_text) != 64 or any(c not in "0123456789abcdef" for c in hash_text):
            raise ValueError("the hash of a checkpoint is 64 hexadecimal characters")
        return cls(seq=seq, hash=hash_text)

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    head: Checkpoint | None
    broken_seq: int | None = None
    reason: str = ""


def verify(events: Iterable[Mapping[str, Any]], checkpoint: Checkpoint | None = None) -> VerifyResult:
    """Walk events in ``seq`` order and return the first break, if any.

    Each event is a mapping of ``CHAINED_FIELDS`` plus ``prev_hash`` and ``hash``. Checks: seq runs
    1, 2, 3 … without gaps; prev_hash is the previous event's hash; hash is what the content gives;
    and, with a checkpoint, the chain reaches the checkpoint's seq with exactly its hash.
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    head: Checkpoint | None = None
    checkpoint_seen = False
    for event in events:
        seq = int(event["seq"])
        if seq != expected_seq:
            reason = f"seq {expected_seq} is missing (found {seq} next)" if seq > expected_seq else f"seq {seq} repeats"
            return VerifyResult(False, expected_seq - 1, head, expected_seq, reason)
        if event["prev_hash"] != prev_hash:
            return VerifyResult(False, seq - 1, head, seq, "its prev_hash is not the hash of the event before it")
        if compute_hash(prev_hash, event) != event["hash"]:
            return VerifyResult(False, seq - 1, head, seq, "its content does not match its hash")
        if checkpoint is not None and seq == checkpoint.seq:
            checkpoint_seen = True
            if event["hash"] != checkpoint.hash:
                return VerifyResult(
                    False, seq, head, seq, "its hash differs from the checkpoint: the chain was recomputed"
                )
        prev_hash = event["hash"]
        head = Checkpoint(seq, event["hash"])
        expected_seq += 1
    if checkpoint is not None and not checkpoint_seen:
        last = expected_seq - 1
        return VerifyResult(
            False,
            last,
            head,
            last + 1,
            f"the chain ends at seq {last}, before the checkpoint at seq {checkpoint.seq}: it was cut short",
        )
    return VerifyResult(True, expected_seq - 1, head)
