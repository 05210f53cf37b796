"""Bulk and single writers at once on PostgreSQL: one unbroken chain, each batch in one piece."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from apps.audit import selectors
from apps.audit.chain import verify
from apps.audit.models import AuditChainHead, AuditEvent
from apps.audit.services import AuditEntry, audit_record, audit_record_many

THREADS = 6
BATCHES = 8
BATCH = 60


@pytest.mark.django_db(transaction=True)
def test_bulk_and_single_writers_in_threads_leave_one_unbroken_chain() -> None:
    assert connection.vendor == "postgresql"
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer(index: int) -> None:
        try:
            start.wait()
            for batch in range(BATCHES):
                data = [{"thread": index, "batch": batch, "i": i} for i in range(BATCH)]
                if index % 2:
                    for item in data:
                        audit_record(actor=None, action="test.concurrent.recorded", data=item)
                elif index % 4 == 0:
                    # Inside a longer transaction of the caller's, with a single event before it.
                    with transaction.atomic():
                        audit_record(actor=None, action="test.concurrent.started", data={"thread": index})
                        audit_record_many(
                            [AuditEntry(actor=None, action="test.concurrent.recorded", data=d) for d in data],
                            batch_size=25,
                        )
                else:
                    audit_record_many([AuditEntry(actor=None, action="test.concurrent.recorded", data=d) for d in data])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = AuditEvent.objects.count()
    starters = len([n for n in range(THREADS) if n % 4 == 0]) * BATCHES
    assert total == THREADS * BATCHES * BATCH + starters
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == total  # no fork
    result = verify(selectors.audit_chain())
    assert result.ok, result.reason
    head = AuditChainHead.objects.get(pk=1)
    assert result.head is not None
    assert (head.seq, head.hash) == (result.head.seq, result.head.hash)
    for n in range(0, THREADS, 2):  # nobody slipped into a bulk write while it held the lock
        for batch in range(BATCHES):
            events = AuditEvent.objects.filter(data__thread=n, data__batch=batch)
            seqs_of = list(events.order_by("seq").values_list("seq", flat=True))
            assert seqs_of == list(range(seqs_of[0], seqs_of[0] + BATCH))
