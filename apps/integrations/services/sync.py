"""Reading an MLflow registry into Signet: the full reconcile and the re-read of one model.

Contract the other parts of the bridge rely on:

- ``reconcile(connection) -> dict``: one full pass (pages of registered-models/search and
  model-versions/search), creating or updating the mirror rows and the governed Signet models and
  versions, marking what disappeared; resumable and never half-written. Returns counts.
- ``sync_model(connection, name) -> MlflowModel | None``: re-read one registered model, its versions
  and aliases through REST (what a webhook hints at); marks it gone when MLflow answers 404.
- a project owner's claim from the intake list is ``services/governing.py``'s ``model_claim``; what MLflow
  says, as plain values, is ``apps/integrations/readings.py``.

Here: the entry points and the paging. ``sync_pass.py``: what a pass shares (counts, locks, the runs it
reads); ``sync_write.py``: the writes of one batch (new rows through ``apps.core.bulk``: COPY on PostgreSQL).

How a pass goes. All registered models are read first (names, tags, aliases: small), which fixes
their order; then all versions, globally, ordered by model name and number as MLflow orders the
models, so a model is complete as soon as a version of a later model arrives. Complete models are
written in batches, each batch in one transaction: the mirror rows, the Signet model (when the
model's ``signet.project`` tag names a project, else it waits in the intake list for a claim), its
versions and their audit events (one ``audit_record_many`` per batch), all or nothing. The next page
of versions is read by a thread, on a client of its own, while one is written. Rows are compared
with the mirror loaded in bulk, by MLflow's ``last_updated_timestamp`` and content, so an unchanged
model costs no write and no call; the runs of new or changed versions are read in batches
(runs/search by run id). An ``MlflowError`` stops the pass (``reconcile_status=failed`` with the
reason): whatever batches were written are whole, nothing is marked gone, and the next pass skips
what was written. Only a pass that read everything marks models and versions gone (``deleted_at``,
audited, never deleted), after re-reading each one (a page token is an offset, and rows shift under
concurrent writes). A second pass of the same connection while one runs returns at once (a
PostgreSQL advisory lock); the writes of a pass, a webhook's re-read and a claim take turns per
connection (a transaction lock).

Governance: versions that left draft are never changed by the bridge (``imports.version_import_update``);
only their mirror rows follow MLflow.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.utils import timezone

from apps.core.memory import frozen_heap
from apps.integrations.choices import ReconcileStatus
from apps.integrations.mlflow_client import PAGE_SIZE, MlflowError
from apps.integrations.models import MlflowConnection, MlflowModel
from apps.integrations.services.connections import client_for
from apps.integrations.services.sync_pass import PASS_LOCK, WRITE_LOCK, Counts, SyncPass, pass_lock
from apps.integrations.services.sync_write import mark_model_gone, write_models

__all__ = ["PASS_LOCK", "WRITE_LOCK", "reconcile", "sync_model"]

logger = logging.getLogger(__name__)


# --- the entry points ---------------------------------------------------------------------------------
def _sync_one(state: SyncPass, name: str) -> MlflowModel | None:
    try:
        item = state.client.get_model(name)
    except MlflowError as exc:
        if not exc.not_found:
            raise
        mirror = mark_model_gone(state.connection, name)
        if mirror is not None and mirror.deleted_at is not None:
            state.counts.models_gone += 1
        return mirror
    if not item.get("name"):
        return None
    versions: list[dict[str, Any]] = []
    token = ""
    while True:
        page = state.client.search_versions_page(token, name=str(item["name"]))
        state.counts.pages += 1
        versions += page.get("model_versions") or []
        token = str(page.get("next_page_token") or "")
        if not token:
            break
    return write_models(state, [(item, versions)], whole=True)[0]


def sync_model(connection: MlflowConnection, name: str) -> MlflowModel | None:
    """Re-read one registered model with its versions and aliases; None when MLflow and Signet both lack it.

    Raises MlflowError when MLflow cannot be asked (the caller retries).
    """
    with client_for(connection) as client:
        return _sync_one(SyncPass(connection, client), name)


def reconcile(connection: MlflowConnection, *, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """One full pass over the connection's registry; returns counts, ``status`` and ``message``.

    Side effects: the connection's reconcile_* fields; mirror rows; Signet models and versions with
    their audit events; ``integrations.model.gone``/``.version.gone`` (and ``.returned``) events;
    one hash_artifacts task per written batch for its new files, after its commit (files Signet cannot read
    are recorded ``unreachable`` at once, no task); the alias guard for models whose aliases moved.
    """
    with pass_lock(connection) as got:
        if not got:
            return {"status": "busy", "message": "A reconcile of this connection is already running."}
        MlflowConnection.objects.filter(pk=connection.pk).update(
            reconcile_status=ReconcileStatus.RUNNING, reconcile_started_at=timezone.now()
        )
        counts = Counts()
        try:
            with client_for(connection) as client, frozen_heap():
                state = SyncPass(connection, client, counts)
                _full_pass(state, page_size)
        except MlflowError as exc:
            message = (
                f"Stopped after {counts.pages} pages: {exc.message} The models read completely are kept; "
                "nothing was marked gone; the next pass goes on."
            )
            MlflowConnection.objects.filter(pk=connection.pk).update(
                reconcile_status=ReconcileStatus.FAILED, reconcile_message=message
            )
            logger.warning("reconcile of %s failed: %s", connection.name, exc.message)
            return {**counts.as_dict(), "status": ReconcileStatus.FAILED, "message": message}
        except Exception as exc:
            MlflowConnection.objects.filter(pk=connection.pk).update(
                reconcile_status=ReconcileStatus.FAILED,
                reconcile_message=f"Stopped after {counts.pages} pages by an error in Signet ({type(exc).__name__}).",
            )
            raise
        message = counts.summary()
        MlflowConnection.objects.filter(pk=connection.pk).update(
            reconcile_status=ReconcileStatus.SUCCEEDED, reconciled_at=timezone.now(), reconcile_message=message
        )
        return {**counts.as_dict(), "status": ReconcileStatus.SUCCEEDED, "message": message}


def _full_pass(state: SyncPass, page_size: int) -> None:
    client, counts = state.client, state.counts
    models: list[dict[str, Any]] = []
    token = ""
    while True:
        page = client.search_models_page(token, max_results=min(page_size, PAGE_SIZE))
        counts.pages += 1
        models += [m for m in page.get("registered_models") or [] if m.get("name")]
        token = str(page.get("next_page_token") or "")
        if not token:
            break
    index = {str(m["name"]): i for i, m in enumerate(models)}
    pending: dict[int, list[dict[str, Any]]] = {}
    done = 0  # models[:done] are written
    # Page n+1 is read (by a thread, on a client of its own: a session is not for two threads) while
    # page n is compared and written here; the database work stays on this thread.
    with client_for(state.connection) as reader, ThreadPoolExecutor(max_workers=1) as prefetch:
        ahead = prefetch.submit(reader.search_versions_page, "", max_results=page_size)
        while True:
            page = ahead.result()
            counts.pages += 1
            token = str(page.get("next_page_token") or "")
            if token:
                ahead = prefetch.submit(reader.search_versions_page, token, max_results=page_size)
            done = _take_page(state, models, index, pending, done, page, last=not token)
            if not token:
                break
    _finish(state, set(index))


def _take_page(
    state: SyncPass,
    models: list[dict[str, Any]],
    index: dict[str, int],
    pending: dict[int, list[dict[str, Any]]],
    done: int,
    page: dict[str, Any],
    *,
    last: bool,
) -> int:
    """Sort one page of versions to their models and write the models it completes; return how many are written."""
    frontier = done
    for version in page.get("model_versions") or []:
        position = index.get(str(version.get("name")))
        if position is None:  # a model registered since the models were read: the next pass
            continue
        if position < done:  # out of MLflow's order after all: re-read that model at the end
            state.recheck.add(models[position]["name"])
            continue
        pending.setdefault(position, []).append(version)
        frontier = max(frontier, position)
    end = len(models) if last else frontier  # the model at the frontier may go on in the next page
    write_models(state, [(models[i], pending.pop(i, [])) for i in range(done, end)], whole=False)
    return max(done, end)


def _finish(state: SyncPass, listed: set[str]) -> None:
    """Complete: what the mirror has and MLflow did not list is re-read, and marked gone on a 404."""
    absent = (
        MlflowModel.objects.filter(connection=state.connection, deleted_at__isnull=True)
        .exclude(name__in=listed)
        .values_list("name", flat=True)
    )
    for name in sorted({*absent, *state.recheck}):
        _sync_one(state, name)
