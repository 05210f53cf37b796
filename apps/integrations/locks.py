"""The bridge's advisory locks, held until the end of the caller's transaction (PostgreSQL).

Lock order for a transaction that writes mirror rows and audits (docs/decisions/0015 for the chain):
the connection's mirror lock first, then rows, the audit chain last. The sync's batches take the same
mirror lock (its ``WRITE_LOCK``; tests hold the two equal), so a restore or a write-back recording
what MLflow now holds never waits for a row the sync holds while the sync waits for the chain.
SQLite runs one writing transaction at a time already: nothing to take there.
"""

from __future__ import annotations

from django.db import connection as database

MIRROR_WRITE = 0x5167_0013  # per connection: the sync's write lock
WRITE_BACK = 0x5167_0014  # per mirror version: one write-back of a version at a time, MLflow calls included


def _take(namespace: int, key: int) -> None:
    if not database.in_atomic_block:
        raise RuntimeError("the bridge's locks are for use inside transaction.atomic()")
    if database.vendor == "postgresql":
        with database.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, key])


def mirror_write_lock(connection_id: int) -> None:
    """Take connection ``connection_id``'s mirror lock until the transaction ends."""
    _take(MIRROR_WRITE, connection_id)


def write_back_lock(mlflow_version_id: int) -> None:
    """Take the write-back lock of one mirror version until the transaction ends."""
    _take(WRITE_BACK, mlflow_version_id)


__all__ = ["mirror_write_lock", "write_back_lock"]
