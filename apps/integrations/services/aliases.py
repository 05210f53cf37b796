"""The shadow-deployment guard: a protected alias must point at a version the gate allows.

Pipelines deploy whatever an MLflow alias such as ``@champion`` points at. The connection names the
aliases it protects and the environment each deploys to (``protected_aliases``). When the mirror
shows a protected alias on a version that the gate refuses for that environment (a draft, a
rejected version, a stale or expired approval, an approval for other environments, an artifact
whose digest is not the approved one, or a version Signet does not govern at all), Signet raises a
high "unapproved promotion" finding on it and, where the connection says so (``restore_aliases``),
moves the alias back to the newest version the gate allows there, or removes it when there is none,
writing the reason on the refused version's MLflow tags.

- ``aliases_check(mlflow_model)`` does that for one model (task ``check_aliases``); it is idempotent:
  the finding is deduplicated while open, the "unapproved" event is written once per version an
  alias points at, and a restore that already happened finds nothing left to do.
- ``alias_states(mlflow_model)`` and ``alias_states_bulk(mlflow_models)`` say, for pages, where each
  alias points and whether a current approval backs it, in a fixed number of queries.

Every change is the bridge's: audited with ``connection.service_user`` as actor and
``connection.actor_name`` as the name. MLflow is called outside any transaction that holds the
chain lock; when it cannot be reached, the failure is audited and the error goes to the task, which
tries again. Signet records a restore only after MLflow made it, so Signet never shows a restore
that did not happen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.core.queue import enqueue
from apps.integrations.alias_states import (
    APPROVED_STATUSES,
    AliasState,
    alias_states,
    alias_states_bulk,
    mirror_digest,
    ungoverned_reason,
)
from apps.integrations.locks import mirror_write_lock
from apps.integrations.mlflow_client import MlflowError, aliases_of
from apps.integrations.models import MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.secrets import SecretMissing
from apps.integrations.services.connections import client_for
from apps.workflows.gate import gate_check
from apps.workflows.services import finding_raise_unapproved

__all__ = ["AliasState", "alias_states", "alias_states_bulk", "aliases_check", "last_approved", "verdict_for"]

logger = logging.getLogger("apps.integrations.services")

# Sent by name (apps/core/queue.py): apps.integrations.tasks imports this module.
CHECK_ALIASES = "apps.integrations.tasks.check_aliases"
RETRY_SECONDS = 60
REFUSED_TAG = "signet.alias_refused"
MAX_TAG_VALUE = 5000  # MLflow refuses longer model version tag values
SOURCE_PREFIX = "mlflow-alias:"


# --- what an alias's version is worth ---------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reasons: list[str]
    mlflow_version: MlflowVersion | None


def verdict_for(mlflow_model: MlflowModel, number: int, environment: str | None) -> Verdict:
    """The gate's answer for MLflow version ``number`` of ``mlflow_model`` in ``environment`` (the write path)."""
    mlflow_version = (
        MlflowVersion.objects.select_related("version").filter(mlflow_model=mlflow_model, number=number).first()
    )
    reason = ungoverned_reason(mlflow_model, number, mlflow_version)
    if reason is not None or mlflow_version is None or mlflow_version.version is None:
        return Verdict(False, [reason or ""], mlflow_version)
    answer = gate_check(
        version=mlflow_version.version, environment=environment, artifact_sha256=mirror_digest(mlflow_version)
    )
    return Verdict(answer.allowed, list(answer.reasons), mlflow_version)


def last_approved(mlflow_model: MlflowModel, environment: str, *, other_than: int) -> MlflowVersion | None:
    """The newest version of ``mlflow_model`` (by MLflow number) that the gate allows in ``environment``."""
    candidates = (
        MlflowVersion.objects.select_related("version")
        .filter(mlflow_model=mlflow_model, deleted_at=None, version__status__in=APPROVED_STATUSES)
        .exclude(number=other_than)
        .order_by("-number")
    )
    for candidate in candidates:
        assert candidate.version is not None  # the filter asks for a linked, approved version
        digest = mirror_digest(candidate)
        if gate_check(version=candidate.version, environment=environment, artifact_sha256=digest).allowed:
            return candidate
    return None


# --- the check ----------------------------------------------------------------------------------


@dataclass
class Refusal:
    alias: str
    number: int
    environment: str
    reasons: list[str]
    result: dict[str, Any] = field(default_factory=dict)


def _title(mlflow_model: MlflowModel, alias: str, number: int) -> str:
    return f"Unapproved promotion: {mlflow_model.name}@{alias} points at v{number}"


def _description(mlflow_model: MlflowModel, refusal: Refusal, restore: bool) -> str:
    lines = [
        f"The protected MLflow alias @{refusal.alias} of {mlflow_model.name} (connection "
        f"{mlflow_model.connection.name}) deploys to {refusal.environment}, and it points at v{refusal.number}, "
        "which the deployment gate refuses there:",
        *(f"- {reason}" for reason in refusal.reasons),
    ]
    if restore:
        lines.append("The connection restores protected aliases: Signet moves it back to the last approved version.")
    else:
        lines.append("Move the alias back in MLflow, or have the version reviewed and approved for this environment.")
    return "\n".join(lines)


def aliases_check(mlflow_model: MlflowModel, *, retry_later: bool = True) -> list[dict[str, Any]]:
    """Judge every protected alias of ``mlflow_model`` by the gate; raise findings and restore where refused.

    Returns one entry per protected alias: ``{alias, number, environment, allowed, reasons, finding,
    restored_to, removed}``, and ``error``/``transient`` where MLflow did not take a restore. Does
    nothing for a disabled connection or a model gone from MLflow. Never raises for MLflow: a failed
    restore is audited (``integrations.alias.restore_failed``) and, when MLflow may answer later and
    ``retry_later`` (callers other than the task, which retries itself), ``check_aliases`` is queued.
    Side effects: for a refused alias, ``finding_raise_unapproved`` (once while open, with its
    ``workflows.finding.raised`` and notifications to owners, validators and compliance),
    ``integrations.alias.unapproved`` (once per version the alias points at); with
    ``restore_aliases``, MLflow's alias moved back (or deleted) and the ``signet.alias_refused`` tag on
    the refused version, then the mirror updated and ``integrations.alias.restored``.
    """
    mlflow_model = MlflowModel.objects.select_related("connection__service_user", "model__project").get(
        pk=mlflow_model.pk
    )
    connection = mlflow_model.connection
    if not connection.enabled or mlflow_model.deleted_at is not None:
        return []
    results: list[dict[str, Any]] = []
    refusals: list[Refusal] = []
    with transaction.atomic():
        # Beside the sync's batches and other checks, never between: two at once would both see the alias
        # unflagged, and the mirror lock comes before rows and the chain (apps/integrations/locks.py).
        mirror_write_lock(connection.pk)
        for alias in MlflowAlias.objects.filter(mlflow_model=mlflow_model).order_by("alias"):
            environment = connection.environment_of(alias.alias)
            if environment is None:
                continue
            verdict = verdict_for(mlflow_model, alias.number, environment)
            result: dict[str, Any] = {
                "alias": alias.alias,
                "number": alias.number,
                "environment": environment,
                "allowed": verdict.allowed,
                "reasons": verdict.reasons,
                "finding": None,
                "restored_to": None,
                "removed": False,
            }
            results.append(result)
            if verdict.allowed:
                if alias.refused_number is not None:
                    MlflowAlias.objects.filter(pk=alias.pk).update(refused_number=None)
                continue
            refusal = Refusal(alias.alias, alias.number, environment, verdict.reasons, result)
            _flag(connection, mlflow_model, alias, verdict, refusal)
            refusals.append(refusal)
    if not connection.restore_aliases:
        return results
    for refusal in refusals:
        try:
            _restore(connection, mlflow_model, refusal)
        except MlflowError as exc:
            refusal.result.update(error=exc.message, transient=exc.transient)
    if retry_later and any(result.get("transient") for result in results):
        pk = mlflow_model.pk
        transaction.on_commit(lambda: enqueue(CHECK_ALIASES, pk, countdown=RETRY_SECONDS), robust=True)
    return results


def _flag(
    connection: MlflowConnection, mlflow_model: MlflowModel, alias: MlflowAlias, verdict: Verdict, refusal: Refusal
) -> None:
    """The finding and the audit event of a refused alias, in the check's transaction."""
    version = verdict.mlflow_version.version if verdict.mlflow_version is not None else None
    finding = None
    if version is not None:
        finding = finding_raise_unapproved(
            version=version,
            raised_by=connection.service_user,
            actor=connection.service_user,
            actor_name=connection.actor_name,
            source=f"{SOURCE_PREFIX}{alias.alias}",
            title=_title(mlflow_model, alias.alias, alias.number),
            description=_description(mlflow_model, refusal, connection.restore_aliases),
        )
    refusal.result["finding"] = finding.pk if finding is not None else None
    if finding is None and alias.refused_number == alias.number:
        return  # already reported for this version, and its finding is still open
    audit_record(
        actor=connection.service_user,
        actor_name=connection.actor_name,
        action=Action.MLFLOW_ALIAS_UNAPPROVED,
        target=mlflow_model,
        target_repr=f"{mlflow_model.name}@{alias.alias}",
        project=mlflow_model.model.project if mlflow_model.model is not None else None,
        data={
            "connection": connection.name,
            "alias": alias.alias,
            "number": alias.number,
            "environment": refusal.environment,
            "version": version.pk if version is not None else None,
            "reasons": refusal.reasons,
            "finding": refusal.result["finding"],
        },
    )
    MlflowAlias.objects.filter(pk=alias.pk).update(refused_number=alias.number)


def _refusal_text(refusal: Refusal, target: MlflowVersion | None) -> str:
    where = f"moved back to v{target.number}" if target is not None else "removed: no approved version"
    return f"{refusal.alias} {where}: {' '.join(refusal.reasons)}"[:MAX_TAG_VALUE]


def _restore(connection: MlflowConnection, mlflow_model: MlflowModel, refusal: Refusal) -> None:
    """Move one refused alias back in MLflow (or delete it), then record that in the mirror and the trail."""
    target = last_approved(mlflow_model, refusal.environment, other_than=refusal.number)
    text = _refusal_text(refusal, target)
    try:
        with client_for(connection) as client:
            live = aliases_of(client.get_model(mlflow_model.name)).get(refusal.alias)
            if live != refusal.number:
                # MLflow moved it since the mirror read it: the next sync reads where and checks again.
                refusal.result["skipped"] = f"MLflow shows @{refusal.alias} at v{live}" if live else "alias gone"
                return
            client.set_version_tag(mlflow_model.name, refusal.number, REFUSED_TAG, text)
            if target is not None:
                client.set_alias(mlflow_model.name, refusal.alias, target.number)
            else:
                client.delete_alias(mlflow_model.name, refusal.alias)
    except (MlflowError, SecretMissing) as exc:
        error = exc if isinstance(exc, MlflowError) else MlflowError(str(exc))
        logger.warning(
            "mlflow %s: could not restore %s@%s: %s", connection.name, mlflow_model.name, refusal.alias, error.message
        )
        with transaction.atomic():
            audit_record(
                actor=connection.service_user,
                actor_name=connection.actor_name,
                action=Action.MLFLOW_ALIAS_RESTORE_FAILED,
                target=mlflow_model,
                target_repr=f"{mlflow_model.name}@{refusal.alias}",
                project=mlflow_model.model.project if mlflow_model.model is not None else None,
                data={
                    "connection": connection.name,
                    "alias": refusal.alias,
                    "number": refusal.number,
                    "to": target.number if target is not None else None,
                    "error": error.message,
                    "transient": error.transient,
                },
            )
        raise error from None
    _record_restore(connection, mlflow_model, refusal, target, text)


def _record_restore(
    connection: MlflowConnection, mlflow_model: MlflowModel, refusal: Refusal, target: MlflowVersion | None, text: str
) -> None:
    now = timezone.now()
    with transaction.atomic():
        mirror_write_lock(connection.pk)
        alias = (
            MlflowAlias.objects.select_for_update(no_key=True)
            .filter(mlflow_model=mlflow_model, alias=refusal.alias)
            .first()
        )
        if alias is not None and target is not None:
            alias.number, alias.changed_at, alias.refused_number = target.number, now, None
            alias.save(update_fields=["number", "changed_at", "refused_number"])
        elif alias is not None:
            alias.delete()  # MLflow has no such alias any more; the trail keeps where it pointed
        refused = (
            MlflowVersion.objects.select_for_update(no_key=True)
            .filter(mlflow_model=mlflow_model, number=refusal.number)
            .first()
        )
        if refused is not None:
            refused.tags = {**refused.tags, REFUSED_TAG: text}
            refused.written_tags = {**refused.written_tags, REFUSED_TAG: text}
            refused.save(update_fields=["tags", "written_tags"])
        audit_record(
            actor=connection.service_user,
            actor_name=connection.actor_name,
            action=Action.MLFLOW_ALIAS_RESTORED,
            target=mlflow_model,
            target_repr=f"{mlflow_model.name}@{refusal.alias}",
            project=mlflow_model.model.project if mlflow_model.model is not None else None,
            changes={"number": {"before": refusal.number, "after": target.number if target is not None else None}},
            data={
                "connection": connection.name,
                "alias": refusal.alias,
                "environment": refusal.environment,
                "removed": target is None,
                "reasons": refusal.reasons,
            },
        )
    refusal.result["restored_to"] = target.number if target is not None else None
    refusal.result["removed"] = target is None


def models_with_protected_aliases(connection: MlflowConnection) -> list[int]:
    """Ids of the connection's mirrored models that carry a protected alias: the reconcile judges them again,
    since an approval can expire or go stale without the alias moving."""
    return list(
        MlflowAlias.objects.filter(
            mlflow_model__connection=connection,
            mlflow_model__deleted_at=None,
            alias__in=list((connection.protected_aliases or {}).keys()),
        )
        .values_list("mlflow_model_id", flat=True)
        .distinct()
        .order_by("mlflow_model_id")
    )
