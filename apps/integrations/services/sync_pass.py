"""What one reconcile pass (or one re-read) of an MLflow registry shares: its counts, its locks, the runs it reads.

The pages of models and versions are read by ``sync.py``, written by ``sync_write.py``; the runs of
new or changed versions are read here in batches (runs/search by run id), before the transaction that
writes them (no network while it holds locks).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection as database

from apps.integrations.locks import MIRROR_WRITE, mirror_write_lock
from apps.integrations.mlflow_client import MlflowClient, MlflowError
from apps.integrations.models import MlflowConnection
from apps.integrations.readings import run_summary

# Advisory lock keys (two-int form: key, connection id). The pass lock is held by a session for a
# whole pass; the write lock by each transaction that writes a connection's mirror.
PASS_LOCK = 0x5167_0012
WRITE_LOCK = MIRROR_WRITE  # shared with the guard and the write-back
RUN_BATCH = 100  # run ids per runs/search call
VERSION_MIRROR_FIELDS = ("source", "run_id", "user_id", "status", "description", "tags", "last_updated_timestamp")
MODEL_MIRROR_FIELDS = ("description", "tags", "last_updated_timestamp")


@dataclass
class Counts:
    pages: int = 0
    models_created: int = 0
    models_updated: int = 0
    models_unchanged: int = 0
    models_gone: int = 0
    versions_created: int = 0
    versions_updated: int = 0
    versions_unchanged: int = 0
    versions_gone: int = 0
    signet_models_created: int = 0
    signet_versions_created: int = 0
    run_pages: int = 0  # runs/search calls for the runs of new or changed versions

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def summary(self) -> str:
        return (
            f"{self.pages} pages read; models: {self.models_created} new, {self.models_updated} changed, "
            f"{self.models_unchanged} unchanged, {self.models_gone} gone; versions: {self.versions_created} new, "
            f"{self.versions_updated} changed, {self.versions_unchanged} unchanged, {self.versions_gone} gone."
        )


@dataclass
class SyncPass:
    """What one pass (or one re-read) shares: the connection, its client, its counts, what to do after commit."""

    connection: MlflowConnection
    client: MlflowClient
    counts: Counts = field(default_factory=Counts)
    experiment_ids: list[str] | None = None
    recheck: set[str] = field(default_factory=set)  # model names to re-read at the end of a complete pass


# --- locks ----------------------------------------------------------------------------------------
@contextmanager
def pass_lock(connection: MlflowConnection) -> Iterator[bool]:
    if database.vendor != "postgresql":  # the embedded default: one writer at a time already, one worker
        yield True
        return
    with database.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [PASS_LOCK, connection.pk])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with database.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [PASS_LOCK, connection.pk])


def write_lock(connection: MlflowConnection) -> None:
    mirror_write_lock(connection.pk)  # the same lock as the guard's and the write-back's (locks.py)


def _experiments(state: SyncPass) -> list[str]:
    if state.experiment_ids is None:
        ids: list[str] = []
        token = ""
        while True:
            body: dict[str, Any] = {"max_results": 1000, "view_type": "ACTIVE_ONLY"}
            if token:
                body["page_token"] = token
            page = state.client.call("POST", "experiments/search", json=body)
            ids.extend(str(e.get("experiment_id")) for e in page.get("experiments") or [] if e.get("experiment_id"))
            token = str(page.get("next_page_token") or "")
            if not token:
                break
        state.experiment_ids = ids
    return state.experiment_ids


def fetch_runs(state: SyncPass, run_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Run summaries by id, read in batches; a run MLflow no longer has is ``{"run_id", "missing": True}``."""
    found: dict[str, dict[str, Any]] = {}
    wanted = sorted(i for i in run_ids if i)
    if not wanted:
        return found
    experiments = _experiments(state)
    for start in range(0, len(wanted), RUN_BATCH):
        chunk = wanted[start : start + RUN_BATCH]
        quoted = ", ".join("'" + i.replace("\\", "\\\\").replace("'", "\\'") + "'" for i in chunk)
        token = ""
        while experiments:
            body: dict[str, Any] = {
                "experiment_ids": experiments,
                "filter": f"attributes.run_id IN ({quoted})",
                "max_results": 1000,
                "run_view_type": "ALL",
            }
            if token:
                body["page_token"] = token
            state.counts.run_pages += 1
            try:
                page = state.client.call("POST", "runs/search", json=body)
            except MlflowError as exc:
                if exc.status != 400:
                    raise
                break  # a server that cannot search runs by id: one by one below
            for run in page.get("runs") or []:
                summary = run_summary(run)
                found[summary["run_id"]] = summary
            token = str(page.get("next_page_token") or "")
            if not token:
                break
    for run_id in wanted:  # in an experiment created since, or deleted: ask for it alone
        if run_id not in found:
            try:
                found[run_id] = run_summary(state.client.get_run(run_id))
            except MlflowError as exc:
                if not exc.not_found:
                    raise
                found[run_id] = {"run_id": run_id, "missing": True}
    return found
