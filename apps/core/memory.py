"""Long passes that make millions of short-lived objects: keep the collector off the rest of the heap."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Leave the objects that exist now out of the cyclic collector's passes until the block ends.

    A reconcile of 100,000 versions makes tens of millions of objects; every full collection it
    triggers would walk the whole process too (Django, its apps, every module: hundreds of
    thousands of objects), a pause of a hundred milliseconds or more each time. Frozen, they are
    skipped; what the block makes is still collected as usual. Process-wide (``gc.freeze``): the
    other threads' objects made before the block are frozen too, and thawed with them at its end.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
