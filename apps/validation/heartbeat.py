"""Keep a worker's claim on a run alive while it executes the run.

A run's lease is short (``SIGNET_VALIDATION_LEASE_SECONDS``, 45 s by default) so that a killed
worker's run is taken over within a minute. A live worker must therefore renew it, whatever the
check process is doing: a thread renews it every ``SIGNET_VALIDATION_HEARTBEAT_SECONDS``, so a long
step that prints no progress keeps its claim. The renewal is conditional on the attempt that holds
the claim (``services.run_lease_renew``): once another worker has taken the run over, the old
worker's heartbeat stops and its results are refused (``services/execution.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from django.db import Error as DatabaseError
from django.db import connections

logger = logging.getLogger(__name__)


class Heartbeat:
    """Call ``renew`` every ``interval`` seconds in a thread of its own until the block ends.

    ``renew`` returns False when the claim is lost; the heartbeat then sets ``lost``, calls
    ``on_lost`` (the worker sets it to kill its check process) and stops. A database error is
    logged and the next beat tries again: the lease outlives two missed beats. The thread has its
    own database connection (Django's are per thread) and closes it at the end.
    """

    def __init__(self, renew: Callable[[], bool], *, interval: float, name: str) -> None:
        self._renew = renew
        self._interval = interval
        self._stop = threading.Event()
        self.lost = threading.Event()
        self.on_lost: Callable[[], None] | None = None
        self.beats = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def when_lost(self, action: Callable[[], None]) -> None:
        """Call ``action`` when the claim is lost, or now if it was lost already."""
        self.on_lost = action
        if self.lost.is_set():
            action()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                try:
                    if not self._renew():
                        self.lost.set()
                        logger.warning("%s: the claim is lost (another worker took the run over)", self._thread.name)
                        if self.on_lost is not None:
                            self.on_lost()
                        return
                    self.beats += 1
                except DatabaseError as exc:  # django.db.Error: InterfaceError (a closed connection) too
                    logger.warning("%s: could not renew the lease, trying again: %s", self._thread.name, exc)
                    connections.close_all()  # a broken connection is opened afresh at the next beat
                except Exception:  # a dead heartbeat would let the lease lapse under a live worker
                    logger.exception("%s: the heartbeat failed, trying again", self._thread.name)
                    connections.close_all()
        finally:
            connections.close_all()  # this thread's connections only
