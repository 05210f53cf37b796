"""Many writers at once on PostgreSQL: no gap, no fork, and the chain verifies."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from apps.audit import selectors
from apps.audit.chain import verify
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record

THREADS = 8
EVENTS_EACH = 250


@pytest.mark.django_db(transaction=True)
def test_eight_threads_writing_250_events_each_leave_one_unbroken_chain() -> None:
    assert connection.vendor == "postgresql"
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer(index: int) -> None:
        try:
            start.wait()
            if index % 2:
                for i in range(EVENTS_EACH):
                    audit_record(actor=None, action="test.concurrent.recorded", data={"thread": index, "i": i})
            else:
                # Half the writers hold the chain lock across a longer transaction of 10 events.
                for batch in range(0, EVENTS_EACH, 10):
                    with transaction.atomic():
                        for i in range(batch, min(batch + 10, EVENTS_EACH)):
                            audit_record(actor=None, action="test.concurrent.recorded", data={"thread": index, "i": i})
                        time.sleep(0.001)  # keeps the lock held longer (a hold, not a wait for something)
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
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, THREADS * EVENTS_EACH + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == THREADS * EVENTS_EACH  # no fork
    result = verify(selectors.audit_chain())
    assert result.ok, result.reason
    per_thread = {n: AuditEvent.objects.filter(data__thread=n).count() for n in range(THREADS)}
    assert per_thread == dict.fromkeys(range(THREADS), EVENTS_EACH)
    for n in range(0, THREADS, 2):  # a batch's events are contiguous: nobody slipped in while it held the lock
        seqs_of = list(AuditEvent.objects.filter(data__thread=n).order_by("seq").values_list("seq", flat=True))
        for start_at in range(0, EVENTS_EACH, 10):
            batch = seqs_of[start_at : start_at + 10]
            assert batch == list(range(batch[0], batch[0] + len(batch)))
