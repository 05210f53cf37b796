"""Walk a long chain in stretches, one worker process each, and join them where they meet.

Each link of the chain can be checked from what the event itself stores (its ``prev_hash`` and its
content), so stretches of it are verified independently: a worker walks ``after < seq <= until`` as
``chain.verify`` does, starting from the ``prev_hash`` its first event stores, and the join checks that
this is the hash the stretch before it ended on. The whole holds exactly when every stretch holds and
every join does. When one does not, the chain is walked again, one event after the other, from the end
of the last stretch that held, so the break reported (its seq and its words) is the one the plain walk
would report. Memory is one batch per worker, as in the plain walk.

Workers are forked from the caller (the management command): they inherit its settings, and the
database connections are closed first so that none is shared. Used only on PostgreSQL, outside a
transaction (the workers' connections see only what is committed).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from django.db import connections

from apps.audit import selectors
from apps.audit.chain import Checkpoint, EventCheck, VerifyResult, verify

STRETCH = 50_000  # events a worker walks at a time: 20 stretches for a million, enough to share among 2-8 workers


@dataclass(frozen=True)
class Stretch:
    after: int  # the seq before the stretch
    until: int | None  # its last seq; None: to the end of the chain, whatever was appended meanwhile


@dataclass(frozen=True)
class Walked:
    stretch: Stretch
    first_prev_hash: str | None  # what its first event says came before it; None: the stretch was empty
    result: VerifyResult


def can_walk_in_stretches(using: str) -> bool:
    connection = connections[using]
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def stretches_of(last_seq: int, size: int) -> list[Stretch]:
    """Stretches of ``size`` events up to ``last_seq``; the last one open-ended."""
    cuts = list(range(0, max(last_seq, 1), size))
    return [Stretch(after, after + size) for after in cuts[:-1]] + [Stretch(cuts[-1], None)]


def _within(stretch: Stretch, anchors: Sequence[Checkpoint]) -> list[Checkpoint]:
    # A checkpoint at the seq before the stretch is the previous stretch's to check (against a verified hash).
    first = stretch.after + 1 if stretch.after else 0
    return [a for a in anchors if a.seq >= first and (stretch.until is None or a.seq <= stretch.until)]


def _walk(job: tuple[Stretch, str, list[Checkpoint], EventCheck | None, int]) -> Walked:
    stretch, using, anchors, event_check, batch_size = job
    events = selectors.audit_chain(using=using, batch_size=batch_size, after_seq=stretch.after, until_seq=stretch.until)
    first = next(events, None)
    if first is None:
        return Walked(stretch, None, VerifyResult(False, stretch.after, None, stretch.after + 1, "empty stretch"))
    start = Checkpoint(stretch.after, str(first["prev_hash"])) if stretch.after else None
    result = verify(itertools.chain([first], events), anchors, event_check=event_check, start=start)
    return Walked(stretch, str(first["prev_hash"]), result)


def verify_in_stretches(
    *,
    using: str,
    anchors: Iterable[Checkpoint],
    event_check: EventCheck | None,
    batch_size: int,
    workers: int,
    size: int = STRETCH,
) -> VerifyResult:
    """``chain.verify`` of the whole trail with ``anchors``, the stretches walked by ``workers`` processes.

    ``event_check`` is sent to the workers: it must pickle (a module-level function or an object).
    """
    anchors = list(anchors)
    head = selectors.audit_head(using=using)
    stretches = stretches_of(head["seq"] if head else 0, size)
    good: Checkpoint | None = None  # the end of the stretches that held, in order
    if len(stretches) == 1 or workers < 2:
        return verify(selectors.audit_chain(using=using, batch_size=batch_size), anchors, event_check=event_check)
    connections.close_all()
    jobs: list[Any] = [(s, using, _within(s, anchors), event_check, batch_size) for s in stretches]
    with get_context("fork").Pool(min(workers, len(stretches))) as pool:
        for walked in pool.imap(_walk, jobs):
            joined = walked.first_prev_hash is not None and (
                walked.stretch.after == 0 or (good is not None and walked.first_prev_hash == good.hash)
            )
            if not (joined and walked.result.ok):
                pool.terminate()
                break
            good = walked.result.head
        else:
            return VerifyResult(True, good.seq if good else 0, good)
    # Something does not hold: the plain walk from the last good end names the first break exactly.
    events = selectors.audit_chain(using=using, batch_size=batch_size, after_seq=good.seq if good else 0)
    return verify(events, anchors, event_check=event_check, start=good)
