"""Writing what a pass read: complete MLflow models, each with all its versions, a batch in one transaction.

For a batch: the mirror rows (models, aliases, versions), the Signet model when the model's
``signet.project`` tag names a project (else it waits in the intake list), its versions and their
empty cards, and every audit event (one ``audit_record_many``: one chain lock per batch), all or
nothing. The many new rows go in with ``apps.core.bulk`` (PostgreSQL's COPY; ``bulk_create``
elsewhere). Rows are compared with the mirror loaded in bulk, so an unchanged model costs no write.
Versions that left draft are never changed (``imports.version_import_update``); only their mirror
rows follow MLflow.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.fields.json import KT
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import AuditEntry, audit_record, audit_record_many
from apps.core.bulk import bulk_insert, unsaved
from apps.integrations.choices import ArtifactState
from apps.integrations.mlflow_client import aliases_of, tags_of
from apps.integrations.models import MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.readings import TASK_TAG, int_of, model_values, version_values
from apps.integrations.services.artifacts import known_unreachable
from apps.integrations.services.governing import after_commit, import_versions, signet_fields
from apps.integrations.services.sync_pass import (
    MODEL_MIRROR_FIELDS,
    VERSION_MIRROR_FIELDS,
    SyncPass,
    fetch_runs,
    write_lock,
)
from apps.projects.models import Project
from apps.registry.models import ModelVersion
from apps.registry.services import imports

Entries = list[tuple[dict[str, Any], list[dict[str, Any]]]]
# A model as MLflow lists it, with its versions as (number, mirror values), computed once per batch.
Prepared = list[tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]]


def write_models(state: SyncPass, entries: Entries, *, whole: bool) -> list[MlflowModel]:
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
            runs.update(fetch_runs(state, written))
            continue
        return written


def _write_once(  # noqa: PLR0912, PLR0915 - one transaction, step by step
    state: SyncPass, entries: Prepared, *, whole: bool, runs: dict[str, dict[str, Any]]
) -> list[MlflowModel] | set[str]:
    connection, counts = state.connection, state.counts
    names = [str(item["name"]) for item, _ in entries]
    now = timezone.now()
    actor, actor_name = connection.service_user, connection.actor_name
    hash_ids: list[int] = []
    alias_moved: list[MlflowModel] = []
    audit: list[AuditEntry] = []  # the batch's events, written at its end: one chain lock per batch
    with transaction.atomic():
        write_lock(connection)
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
                audit.append(_bridge_entry(connection, Action.MLFLOW_MODEL_RETURNED, mirror, mirror))
            for key, value in values.items():
                setattr(mirror, key, value)
            mirror.deleted_at, mirror.seen_at = None, now
            changed_models.append(mirror)
            counts.models_updated += 1
        bulk_insert(new_models)
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

        _write_aliases(state, entries, mirrors, now, audit, alias_moved)

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
                    row = unsaved(
                        MlflowVersion,
                        [{"mlflow_model": mirror, "number": number, "seen_at": now, "run": run or {}, **values}],
                    )[0]
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
                    audit.append(_bridge_entry(connection, Action.MLFLOW_VERSION_RETURNED, row, mirror, number=number))
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
        bulk_insert(new_versions)  # COPY on PostgreSQL
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


def _write_aliases(
    state: SyncPass,
    entries: Prepared,
    mirrors: dict[str, MlflowModel],
    now: Any,
    audit: list[AuditEntry],
    alias_moved: list[MlflowModel],
) -> None:
    """Bring the batch's alias rows to MLflow's, each change audited; models whose aliases moved go to alias_moved."""
    connection = state.connection
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
        before = {a: x.number for a, x in before_aliases.items()}
        if before == now_aliases:
            continue
        alias_moved.append(mirror)
        # What was in production is history the trail keeps: every alias set, moved or removed in MLflow.
        audit.append(
            _bridge_entry(
                connection,
                Action.MLFLOW_ALIASES_CHANGED,
                mirror,
                mirror,
                changes={"aliases": {"before": before, "after": now_aliases}},
            )
        )
        gone_aliases += [x.pk for a, x in before_aliases.items() if a not in now_aliases]
        for alias_name, number in now_aliases.items():
            known_alias = before_aliases.get(alias_name)
            if known_alias is None:
                new_aliases.append(MlflowAlias(mlflow_model=mirror, alias=alias_name, number=number, changed_at=now))
            elif known_alias.number != number:
                known_alias.number, known_alias.changed_at = number, now
                moved_aliases.append(known_alias)
    MlflowAlias.objects.filter(pk__in=gone_aliases).delete()
    MlflowAlias.objects.bulk_create(new_aliases)
    MlflowAlias.objects.bulk_update(moved_aliases, ["number", "changed_at"])


def _bridge_entry(
    connection: MlflowConnection,
    action: str,
    target: MlflowModel | MlflowVersion,
    mirror: MlflowModel,
    *,
    changes: dict[str, Any] | None = None,
    **data: Any,
) -> AuditEntry:
    """An event of the bridge about a mirror row: its service user as actor, the model's project if governed."""
    return AuditEntry(
        actor=connection.service_user,
        actor_name=connection.actor_name,
        action=action,
        target=target,
        project=mirror.model.project if mirror.model else None,
        changes=changes,
        data={"connection": connection.name, "mlflow_model": mirror.name, **data},
    )


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


def mark_model_gone(connection: MlflowConnection, name: str) -> MlflowModel | None:
    """MLflow says the model does not exist: mark it and its versions, never delete them."""
    now = timezone.now()
    with transaction.atomic():
        write_lock(connection)
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
