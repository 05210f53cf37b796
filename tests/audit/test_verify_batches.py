"""Verification reads the chain in keyset batches: memory bounded by a batch, a break named wherever it falls."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit import selectors
from apps.audit.services import AuditEntry, audit_record_many
from apps.audit.verification import verify_trail

pytestmark = pytest.mark.django_db

BATCH = 4


def _trail(n: int) -> int:
    """Append n events; return the seq of the first."""
    events = audit_record_many(AuditEntry(actor=None, action="test.event.recorded", data={"i": i}) for i in range(n))
    return events[0].seq


def test_the_chain_is_read_batch_by_batch_in_seq_order() -> None:
    _trail(3 * BATCH + 1)
    total = selectors.audit_head()["seq"]  # type: ignore[index]
    with CaptureQueriesContext(connection) as captured:
        walked = [row["seq"] for row in selectors.audit_chain(batch_size=BATCH)]
    assert walked == list(range(1, total + 1))
    reads = [q["sql"] for q in captured]
    assert len(reads) == total // BATCH + 1  # full batches, then the short one that ends the walk
    assert all(f"LIMIT {BATCH}" in sql for sql in reads)


def test_a_tampered_event_in_the_middle_of_the_third_batch_is_named() -> None:
    first = _trail(4 * BATCH)
    head = selectors.audit_head()["seq"]  # type: ignore[index]
    # Line the batches up with seq 1: the third batch holds seqs 2*BATCH+1 .. 3*BATCH.
    tampered = 2 * BATCH + BATCH // 2 + 1
    assert first <= tampered <= head
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # lift the append-only triggers
        cursor.execute("UPDATE audit_auditevent SET target_repr = 'mallory' WHERE seq = %s", [tampered])
    result = verify_trail(batch_size=BATCH)
    assert not result.ok
    assert result.broken_seq == tampered
    assert result.reason == "its content does not match its hash"
    assert result.checked == tampered - 1
    with pytest.raises(CommandError, match=f"audit chain broken at seq {tampered}: its content") as caught:
        call_command("audit_verify", "--batch-size", str(BATCH), stdout=StringIO())
    assert caught.value.returncode == 1


def test_an_intact_trail_verifies_with_any_batch_size() -> None:
    _trail(2 * BATCH + 3)
    head = selectors.audit_head()
    assert head is not None
    for size in (1, BATCH, 1000):
        out = StringIO()
        call_command("audit_verify", "--batch-size", str(size), stdout=out)
        assert f"audit chain intact: {head['seq']} events" in out.getvalue()


def test_a_batch_size_below_one_is_refused_as_could_not_check() -> None:
    with pytest.raises(CommandError, match="--batch-size") as caught:
        call_command("audit_verify", "--batch-size", "0", stdout=StringIO())
    assert caught.value.returncode == 2
