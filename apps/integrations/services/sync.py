"""Reading an MLflow registry into Signet: the full reconcile and the re-read of one model.

Contract the other parts of the bridge rely on:

- ``reconcile(connection) -> dict``: one full pass (pages of registered-models/search and
  model-versions/search), creating or updating the mirror rows and the governed Signet models and
  versions, marking what disappeared; resumable and never half-written. Returns counts.
- ``sync_model(connection, name) -> MlflowModel | None``: re-read one registered model, its versions
  and aliases through REST (what a webhook hints at); marks it gone when MLflow answers 404.
- a project owner's claim from the intake list is ``services/governing.py``'s ``model_claim``; what MLflow
  says, as plain values, is ``apps/integrations/readings.py``.

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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection as database
from django.db import transaction
from django.db.models.fields.json import KT
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import AuditEntry, audit_record, audit_record_many
from apps.integrations.choices import ArtifactState, ReconcileStatus
from apps.integrations.locks import MIRROR_WRITE, mirror_write_lock
from apps.integrations.mlflow_client import PAGE_SIZE, MlflowClient, MlflowError, aliases_of, tags_of
from apps.integrations.models import MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.readings import (
    TASK_TAG,
    int_of,
    model_values,
    run_summary,
    version_values,
)
from apps.integrations.services.artifacts import known_unreachable
from apps.integrations.services.connections import client_for
from apps.integrations.services.governing import after_commit, import_versions, signet_fields
from apps.projects.models import Project
from apps.registry.models import ModelVersion
from apps.registry.services import imports

logger = logging.getLogger(__name__)

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
class _Pass:
    """What one pass (or one re-read) shares: the connection, its client, its counts, what to do after commit."""

    connection: MlflowConnection
    client: MlflowClient
    counts: Counts = field(default_factory=Counts)
    experiment_ids: list[str] | None = None
    recheck: set[str] = field(default_factory=set)  # model names to re-read at the end of a complete pass


# --- locks ----------------------------------------------------------------------------------------
@contextmanager
def _pass_lock(connection: MlflowConnection) -> Iterator[bool]:
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


def _write_lock(connection: MlflowConnection) -> None:
    mirror_write_lock(connection.pk)  # the same lock as the guard's and the write-back's (locks.py)


def _experiments(state: _Pass) -> list[str]:
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


def _fetch_runs(state: _Pass, run_ids: set[str]) -> dict[str, dict[str, Any]]:
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


Entries = list[tuple[dict[str, Any], list[dict[str, Any]]]]
# A model as MLflow lists it, with its versions as (number, mirror values), computed once per batch.
Prepared = list[tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]]


def _write(state: _Pass, entries: Entries, *, whole: bool) -> list[MlflowModel]:
    """Write complete models (each with all its versions) in one transaction; return their mirror rows.

    ``whole``: the versions listed are all the model's versions (a re-read), so mirror versions not
    among them are gone. In a pass they are only noted, to be re-read once the pass is complete.
    The runs of new or changed versions are read before the transaction that writes (no network
    while it holds locks): a first look inside the lock finds which are wanted, then the write.
    """
    if not entries:
        return []
    runs: dict[str, dict[str, Any]] = {}
    prepared: Prepared = [
        (item, [(int_of(version.get("version")), version_values(version)) for version in versions])
        for item, versions in entries
    ]
    while True:
        written = _write_once(state, prepared, whole=whole, runs=runs)
        if isinstance(written, set):
            runs.update(_fetch_runs(state, written))
            continue
        return written


def _write_once(  # noqa: PLR0912, PLR0915 - one transaction, step by step
    state: _Pass, entries: Prepared, *, whole: bool, runs: dict[str, dict[str, Any]]
) -> list[MlflowModel] | set[str]:
    connection, counts = state.connection, state.counts
    names = [str(item["name"]) for item, _ in entries]
    now = timezone.now()
    actor, actor_name = connection.service_user, connection.actor_name
    hash_ids: list[int] = []
    alias_moved: list[MlflowModel] = []
    audit: list[AuditEntry] = []  # the batch's events, written at its end: one chain lock per batch
    with transaction.atomic():
        _write_lock(connection)
        mirrors = {
            m.name: m
            for m in MlflowModel.objects.filter(connection=connection, name__in=names).select_related("model__project")
        }
        # The run JSON is read only for the rows that change (the id of the run it holds is enough here).
        existing = MlflowVersion.objects.filter(mlflow_model__in=mirrors.values()).defer("run")
        rows: dict[tuple[int, int], MlflowVersion] = {
            (v.mlflow_model_id, v.number): v for v in existing.annotate(run_read=KT("run__run_id"))
        }
        wanted: set[str] = set()
        for item, versions in entries:
            mirror = mirrors.get(str(item["name"]))
            for number, values in versions:
                row = rows.get((mirror.pk, number)) if mirror else None
                fresh = row is None or _changed(row, values, VERSION_MIRROR_FIELDS)
                if values["run_id"] and values["run_id"] not in runs and (fresh or _run_stale(row, values["run_id"])):
                    wanted.add(values["run_id"])
        if wanted:
            return wanted  # nothing written yet: read the runs, then come back

        slugs = {tags_of(item).get(connection.project_tag, "") for item, _ in entries}
        projects = {p.slug: p for p in Project.objects.filter(slug__in=[s for s in slugs if s])}
        new_models: list[MlflowModel] = []
        changed_models: list[MlflowModel] = []
        previous: dict[str, dict[str, Any]] = {}
        for item, _versions in entries:
            values = model_values(item)
            mirror = mirrors.get(str(item["name"]))
            if mirror is None:
                mirror = MlflowModel(connection=connection, name=str(item["name"]), seen_at=now, **values)
                mirrors[mirror.name] = mirror
                new_models.append(mirror)
                counts.models_created += 1
                continue
            if not (_changed(mirror, values, MODEL_MIRROR_FIELDS) or mirror.deleted_at is not None):
                counts.models_unchanged += 1
                continue
            previous[mirror.name] = {"description": mirror.description, "tags": dict(mirror.tags)}
            if mirror.deleted_at is not None:
                audit.append(
                    AuditEntry(
                        actor=actor,
                        actor_name=actor_name,
                        action=Action.MLFLOW_MODEL_RETURNED,
                        target=mirror,
                        project=mirror.model.project if mirror.model else None,
                        data={"connection": connection.name, "mlflow_model": mirror.name},
                    )
                )
            for key, value in values.items():
                setattr(mirror, key, value)
            mirror.deleted_at, mirror.seen_at = None, now
            changed_models.append(mirror)
            counts.models_updated += 1
        MlflowModel.objects.bulk_create(new_models)
        MlflowModel.objects.bulk_update(changed_models, [*MODEL_MIRROR_FIELDS, "deleted_at", "seen_at"])

        # The Signet models: a tag naming a project brings a model in; MLflow's description and task tag follow.
        brought: list[tuple[MlflowModel, imports.ImportedModel]] = []
        for name in names:
            mirror = mirrors[name]
            if mirror.model_id is None:
                project = projects.get(mirror.tags.get(connection.project_tag, ""))
                if project is None:
                    continue  # the intake list, until an owner claims it
                brought.append(
                    (
                        mirror,
                        imports.ImportedModel(
                            project=project,
                            name=mirror.name,
                            task=mirror.tags.get(TASK_TAG, ""),
                            description=mirror.description,
                        ),
                    )
                )
            elif name in previous and mirror.model is not None:
                before = previous[name]
                task_before, task_now = before["tags"].get(TASK_TAG), mirror.tags.get(TASK_TAG)
                if before["description"] != mirror.description or task_before != task_now:
                    imports.model_import_update(
                        actor=actor,
                        actor_name=actor_name,
                        model=mirror.model,
                        description=mirror.description,
                        task=task_now or "",
                    )
        created_models = imports.models_import(
            actor=actor, actor_name=actor_name, items=[item for _, item in brought], audit=audit
        )
        for (mirror, _item), model in zip(brought, created_models, strict=True):
            mirror.model = model
        MlflowModel.objects.bulk_update([mirror for mirror, _ in brought], ["model"])
        counts.signet_models_created += len(created_models)

        # Aliases.
        model_ids = [m.pk for m in mirrors.values()]
        aliases: dict[int, dict[str, MlflowAlias]] = {}
        for alias in MlflowAlias.objects.filter(mlflow_model_id__in=model_ids):
            aliases.setdefault(alias.mlflow_model_id, {})[alias.alias] = alias
        gone_aliases: list[int] = []
        new_aliases: list[MlflowAlias] = []
        moved_aliases: list[MlflowAlias] = []
        for item, _versions in entries:
            mirror = mirrors[str(item["name"])]
            now_aliases = aliases_of(item)
            before_aliases = aliases.get(mirror.pk, {})
            if {a: x.number for a, x in before_aliases.items()} == now_aliases:
                continue
            alias_moved.append(mirror)
            # What was in production is history the trail keeps: every alias set, moved or removed in MLflow.
            audit.append(
                AuditEntry(
                    actor=actor,
                    actor_name=actor_name,
                    action=Action.MLFLOW_ALIASES_CHANGED,
                    target=mirror,
                    project=mirror.model.project if mirror.model else None,
                    changes={
                        "aliases": {"before": {a: x.number for a, x in before_aliases.items()}, "after": now_aliases}
                    },
                    data={"connection": connection.name, "mlflow_model": mirror.name},
                )
            )
            gone_aliases += [x.pk for a, x in before_aliases.items() if a not in now_aliases]
            for alias_name, number in now_aliases.items():
                known_alias = before_aliases.get(alias_name)
                if known_alias is None:
                    new_aliases.append(
                        MlflowAlias(mlflow_model=mirror, alias=alias_name, number=number, changed_at=now)
                    )
                elif known_alias.number != number:
                    known_alias.number, known_alias.changed_at = number, now
                    moved_aliases.append(known_alias)
        MlflowAlias.objects.filter(pk__in=gone_aliases).delete()
        MlflowAlias.objects.bulk_create(new_aliases)
        MlflowAlias.objects.bulk_update(moved_aliases, ["number", "changed_at"])

        # Versions.
        new_versions: list[MlflowVersion] = []
        changed_versions: list[MlflowVersion] = []
        gone_versions: list[MlflowVersion] = []
        by_model: dict[int, list[MlflowVersion]] = {}
        for row in rows.values():
            by_model.setdefault(row.mlflow_model_id, []).append(row)
        for item, versions in entries:
            mirror = mirrors[str(item["name"])]
            seen: set[int] = set()
            for number, values in versions:
                if number <= 0 or number in seen:
                    continue
                seen.add(number)
                run = runs.get(values["run_id"])
                row = rows.get((mirror.pk, number))
                if row is None:
                    row = MlflowVersion(mlflow_model=mirror, number=number, seen_at=now, run=run or {}, **values)
                    if reason := known_unreachable(row.source):  # no task to only say so
                        row.artifact_state, row.artifact_message = ArtifactState.UNREACHABLE, reason[:500]
                    new_versions.append(row)
                    by_model.setdefault(mirror.pk, []).append(row)
                    counts.versions_created += 1
                    continue
                stale = bool(values["run_id"]) and _run_stale(row, values["run_id"]) and run is not None
                if not (_changed(row, values, VERSION_MIRROR_FIELDS) or row.deleted_at is not None or stale):
                    counts.versions_unchanged += 1
                    continue
                if row.deleted_at is not None:
                    audit.append(
                        AuditEntry(
                            actor=actor,
                            actor_name=actor_name,
                            action=Action.MLFLOW_VERSION_RETURNED,
                            target=row,
                            project=mirror.model.project if mirror.model else None,
                            data={"connection": connection.name, "mlflow_model": mirror.name, "number": number},
                        )
                    )
                if values["source"] != row.source:  # other files: hash them again
                    if reason := known_unreachable(values["source"]):
                        row.artifact_state, row.artifact_message = ArtifactState.UNREACHABLE, reason[:500]
                    else:
                        row.artifact_state, row.artifact_message = ArtifactState.PENDING, ""
                        hash_ids.append(row.pk)
                for key, value in values.items():
                    setattr(row, key, value)
                if run is not None:
                    row.run = run
                row.deleted_at, row.seen_at = None, now
                changed_versions.append(row)
                counts.versions_updated += 1
            missing = [r for r in by_model.get(mirror.pk, []) if r.number not in seen and r.deleted_at is None]
            if missing and whole:
                gone_versions += missing
            elif missing:
                state.recheck.add(mirror.name)
        MlflowVersion.objects.bulk_update(
            changed_versions,
            [*VERSION_MIRROR_FIELDS, "run", "deleted_at", "seen_at", "artifact_state", "artifact_message"],
        )
        mirror_of = {m.pk: m for m in mirrors.values()}
        for row in gone_versions:
            row.mlflow_model = mirror_of[row.mlflow_model_id]
            _mark_version_gone(connection, row, now)
        counts.versions_gone += len(gone_versions)

        # The Signet versions of governed models: new ones registered, drafts brought up to date
        # (after the gone marks: a version gone gets none).
        changed_ids = {row.pk for row in changed_versions}
        governed = [mirrors[name] for name in names if mirrors[name].model_id is not None and mirrors[name].model]
        counts.signet_versions_created += import_versions(
            actor=actor,
            actor_name=actor_name,
            batches=[(mirror.model, by_model.get(mirror.pk, [])) for mirror in governed if mirror.model],
            fallback=actor,
            audit=audit,
        )
        # The new mirror rows go in after their Signet versions, linked already (no update of each row).
        MlflowVersion.objects.bulk_create(new_versions)
        hash_ids += [row.pk for row in new_versions if row.artifact_state == ArtifactState.PENDING]
        update = {
            row.version_id: row
            for mirror in governed
            for row in by_model.get(mirror.pk, [])
            if row.version_id is not None and row.pk in changed_ids
        }
        if update:
            held = ModelVersion.objects.select_for_update(no_key=True).select_related("model__project")
            for version in held.filter(pk__in=update).order_by("pk"):
                imports.version_import_update(
                    actor=actor,
                    actor_name=actor_name,
                    version=version,
                    fields=signet_fields(update[version.pk]),
                    audit=audit,
                )
        audit_record_many(audit)
        after_commit([], hash_ids)
    after_commit(alias_moved, [])
    return [mirrors[name] for name in names]


def _changed(row: Any, values: dict[str, Any], fields: tuple[str, ...]) -> bool:
    return any(getattr(row, name) != values[name] for name in fields)


def _run_stale(row: MlflowVersion | None, run_id: str) -> bool:
    """The mirror has not read this run yet (or read another one)."""
    if row is None or not run_id:
        return False
    read = row.run_read if hasattr(row, "run_read") else (row.run or {}).get("run_id")  # annotated in a batch
    return bool(read != run_id)


def _mark_version_gone(connection: MlflowConnection, row: MlflowVersion, now: Any) -> None:
    row.deleted_at = now
    row.save(update_fields=["deleted_at"])
    model = row.mlflow_model.model
    audit_record(
        actor=connection.service_user,
        actor_name=connection.actor_name,
        action=Action.MLFLOW_VERSION_GONE,
        target=row,
        project=model.project if model else None,
        data={"connection": connection.name, "mlflow_model": row.mlflow_model.name, "number": row.number},
    )


def _mark_model_gone(connection: MlflowConnection, name: str) -> MlflowModel | None:
    """MLflow says the model does not exist: mark it and its versions, never delete them."""
    now = timezone.now()
    with transaction.atomic():
        _write_lock(connection)
        mirror = MlflowModel.objects.filter(connection=connection, name=name).select_related("model").first()
        if mirror is None or mirror.deleted_at is not None:
            return mirror
        mirror.deleted_at = now
        mirror.save(update_fields=["deleted_at"])
        versions = mirror.versions.filter(deleted_at__isnull=True).update(deleted_at=now)
        audit_record(
            actor=connection.service_user,
            actor_name=connection.actor_name,
            action=Action.MLFLOW_MODEL_GONE,
            target=mirror,
            project=mirror.model.project if mirror.model else None,
            data={"connection": connection.name, "mlflow_model": name, "versions": versions},
        )
    return mirror


# --- the entry points ---------------------------------------------------------------------------------
def _sync_one(state: _Pass, name: str) -> MlflowModel | None:
    try:
        item = state.client.get_model(name)
    except MlflowError as exc:
        if not exc.not_found:
            raise
        mirror = _mark_model_gone(state.connection, name)
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
    return _write(state, [(item, versions)], whole=True)[0]


def sync_model(connection: MlflowConnection, name: str) -> MlflowModel | None:
    """Re-read one registered model with its versions and aliases; None when MLflow and Signet both lack it.

    Raises MlflowError when MLflow cannot be asked (the caller retries).
    """
    with client_for(connection) as client:
        return _sync_one(_Pass(connection, client), name)


def reconcile(connection: MlflowConnection, *, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """One full pass over the connection's registry; returns counts, ``status`` and ``message``.

    Side effects: the connection's reconcile_* fields; mirror rows; Signet models and versions with
    their audit events; ``integrations.model.gone``/``.version.gone`` (and ``.returned``) events;
    one hash_artifacts task per written batch for its new files, after its commit (files Signet cannot read
    are recorded ``unreachable`` at once, no task); the alias guard for models whose aliases moved.
    """
    with _pass_lock(connection) as got:
        if not got:
            return {"status": "busy", "message": "A reconcile of this connection is already running."}
        MlflowConnection.objects.filter(pk=connection.pk).update(
            reconcile_status=ReconcileStatus.RUNNING, reconcile_started_at=timezone.now()
        )
        counts = Counts()
        try:
            with client_for(connection) as client:
                state = _Pass(connection, client, counts)
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


def _full_pass(state: _Pass, page_size: int) -> None:
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
    state: _Pass,
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
    _write(state, [(models[i], pending.pop(i, [])) for i in range(done, end)], whole=False)
    return max(done, end)


def _finish(state: _Pass, listed: set[str]) -> None:
    """Complete: what the mirror has and MLflow did not list is re-read, and marked gone on a 404."""
    absent = (
        MlflowModel.objects.filter(connection=state.connection, deleted_at__isnull=True)
        .exclude(name__in=listed)
        .values_list("name", flat=True)
    )
    for name in sorted({*absent, *state.recheck}):
        _sync_one(state, name)
