"""The bridge's background work: thin tasks, ids in, a service call."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.core.choices import AuthMethod
from apps.core.context import set_auth_method
from apps.core.queue import enqueue
from apps.integrations.mlflow_client import MlflowError
from apps.integrations.models import MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.services import aliases, webhooks, writeback
from apps.integrations.services.artifacts import artifact_hash
from apps.integrations.services.sync import reconcile

# Tasks (each in the part of #12 that owns its service): reconcile_connection(connection_id),
# reconcile_all() (beat), hash_artifact(mlflow_version_id), hash_artifacts(mlflow_version_ids: one a
# reconcile batch), process_delivery(delivery_id),
# write_back(mlflow_version_id), check_aliases(mlflow_model_id).

# --- the sync (reconcile, artifact hashing) ---------------------------------------------------------
HASH_RETRIES = 5
HASH_RETRY_SECONDS = 120


@shared_task(name="apps.integrations.tasks.reconcile_connection")
def reconcile_connection(connection_id: int) -> dict[str, Any]:
    """One full pass of one enabled connection (on demand, or queued by reconcile_all)."""
    set_auth_method(AuthMethod.TASK)
    connection = MlflowConnection.objects.select_related("service_user").filter(pk=connection_id).first()
    if connection is None or not connection.enabled:
        return {"status": "skipped", "message": "No such enabled connection."}
    result = reconcile(connection)
    if result.get("status") == "succeeded":
        # What no audit event announces: approvals that expired or went stale under an unmoved alias, and
        # tags a write-back could not set while MLflow or the broker was away.
        for mlflow_model_id in aliases.models_with_protected_aliases(connection):
            enqueue("apps.integrations.tasks.check_aliases", mlflow_model_id)
        for mlflow_version_id in writeback.write_back_due(connection):
            enqueue("apps.integrations.tasks.write_back_version", mlflow_version_id)
    return result


@shared_task(name="apps.integrations.tasks.reconcile_all")
def reconcile_all() -> list[int]:
    """Beat, every SIGNET_MLFLOW_RECONCILE_MINUTES: queue a pass of each enabled connection."""
    ids = list(MlflowConnection.objects.filter(enabled=True).values_list("pk", flat=True))
    for connection_id in ids:
        enqueue("apps.integrations.tasks.reconcile_connection", connection_id)
    return ids


@shared_task(name="apps.integrations.tasks.hash_artifact", bind=True, max_retries=HASH_RETRIES)
def hash_artifact(self: Any, mlflow_version_id: int) -> str:
    """Stream a version's files into a SHA-256; MLflow not answering is tried again later."""
    set_auth_method(AuthMethod.TASK)
    mirror = MlflowVersion.objects.select_related("mlflow_model__connection__service_user").filter(pk=mlflow_version_id)
    row = mirror.first()
    if row is None or row.deleted_at is not None:
        return ""
    try:
        return artifact_hash(row)
    except MlflowError as exc:
        if not exc.transient:
            return ""
        raise self.retry(countdown=HASH_RETRY_SECONDS) from None


@shared_task(name="apps.integrations.tasks.hash_artifacts", bind=True, max_retries=HASH_RETRIES)
def hash_artifacts(self: Any, mlflow_version_ids: list[int]) -> int:
    """Hash the files of the versions a reconcile batch wrote (one task a batch); return how many were hashed.

    The versions MLflow did not answer for (transiently) are tried again later, the others are done.
    """
    set_auth_method(AuthMethod.TASK)
    rows = list(
        MlflowVersion.objects.select_related("mlflow_model__connection__service_user")
        .filter(pk__in=mlflow_version_ids, deleted_at__isnull=True)
        .order_by("pk")
    )
    hashed, again = 0, []
    for row in rows:
        try:
            hashed += bool(artifact_hash(row))
        except MlflowError as exc:
            if exc.transient:
                again.append(row.pk)
    if again:
        raise self.retry(args=[again], countdown=HASH_RETRY_SECONDS)
    return hashed


# --- the shadow-deployment guard and write-back (services/aliases.py, services/writeback.py) ----------
GUARD_RETRIES = 6  # 30 s, 1, 2, 4, 8, 16 minutes: a restarting MLflow is back well within


def _backoff(retries: int) -> int:
    return int(30 * 2**retries)


@shared_task(name="apps.integrations.tasks.check_aliases", bind=True, max_retries=GUARD_RETRIES)
def check_aliases(self: Any, mlflow_model_id: int) -> list[dict[str, Any]]:
    """Judge the protected aliases of one mirrored model; a restore MLflow did not take is tried again later."""
    set_auth_method(AuthMethod.TASK)
    mlflow_model = MlflowModel.objects.filter(pk=mlflow_model_id).first()
    if mlflow_model is None:
        return []
    results = aliases.aliases_check(mlflow_model, retry_later=False)
    if any(result.get("transient") for result in results):
        raise self.retry(countdown=_backoff(self.request.retries))
    return results


@shared_task(name="apps.integrations.tasks.write_back_version", bind=True, max_retries=GUARD_RETRIES)
def write_back_version(self: Any, mlflow_version_id: int) -> bool:
    """Bring one MLflow version's signet.* tags up to date; MLflow away: try again later."""
    set_auth_method(AuthMethod.TASK)
    mlflow_version = MlflowVersion.objects.filter(pk=mlflow_version_id).first()
    if mlflow_version is None:
        return False
    try:
        return writeback.write_back(mlflow_version)
    except MlflowError as exc:
        if not exc.transient:
            return False  # logged; the reconcile's write_back_due finds it again
        raise self.retry(countdown=_backoff(self.request.retries)) from None


# --- webhooks ------------------------------------------------------------------------------------
DELIVERY_MAX_RETRIES = 5  # about 2 + 4 + 8 + 16 + 32 s of backoff (jittered); then failed, the reconcile catches it


@shared_task(
    name="apps.integrations.tasks.process_delivery",
    bind=True,
    autoretry_for=(webhooks.DeliveryRetry,),
    max_retries=DELIVERY_MAX_RETRIES,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
)
def process_delivery(self, delivery_id: int) -> str:  # type: ignore[no-untyped-def]
    """Re-read what an MLflow webhook delivery names; retried with backoff while MLflow is unreachable."""
    set_auth_method(AuthMethod.TASK)
    return webhooks.delivery_process(delivery_id, last_attempt=self.request.retries >= DELIVERY_MAX_RETRIES)
