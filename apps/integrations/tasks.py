"""The bridge's background work: thin tasks, ids in, a service call."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.integrations.mlflow_client import MlflowError
from apps.integrations.models import MlflowModel, MlflowVersion
from apps.integrations.services import aliases, writeback

# Tasks (each in the part of #12 that owns its service): reconcile_connection(connection_id),
# reconcile_all() (beat), hash_artifact(mlflow_version_id), process_delivery(delivery_id),
# write_back(mlflow_version_id), check_aliases(mlflow_model_id).


# --- the shadow-deployment guard and write-back (services/aliases.py, services/writeback.py) ----------

GUARD_RETRIES = 6  # 30 s, 1, 2, 4, 8, 16 minutes: a restarting MLflow is back well within


def _backoff(retries: int) -> int:
    return int(30 * 2**retries)


@shared_task(bind=True, max_retries=GUARD_RETRIES)
def check_aliases(self, mlflow_model_id: int) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Judge the protected aliases of one mirrored model; MLflow away: try the restore again later."""
    mlflow_model = MlflowModel.objects.filter(pk=mlflow_model_id).first()
    if mlflow_model is None:
        return []
    try:
        return aliases.aliases_check(mlflow_model)
    except MlflowError as exc:
        if not exc.transient:
            return []  # audited as integrations.alias.restore_failed; retrying would fail the same way
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, max_retries=GUARD_RETRIES)
def write_back_version(self, mlflow_version_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Bring one MLflow version's signet.* tags up to date; MLflow away: try again later."""
    mlflow_version = MlflowVersion.objects.filter(pk=mlflow_version_id).first()
    if mlflow_version is None:
        return False
    try:
        return writeback.write_back(mlflow_version)
    except MlflowError as exc:
        if not exc.transient:
            return False  # logged; the next reconcile tries again
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
