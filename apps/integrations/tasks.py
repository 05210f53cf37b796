"""The bridge's background work: thin tasks, ids in, a service call."""

from __future__ import annotations

from celery import shared_task

from apps.core.choices import AuthMethod
from apps.core.context import set_auth_method
from apps.integrations.services import webhooks

# Tasks (each in the part of #12 that owns its service): reconcile_connection(connection_id),
# reconcile_all() (beat), hash_artifact(mlflow_version_id), process_delivery(delivery_id),
# write_back(mlflow_version_id), check_aliases(mlflow_model_id).


# --- webhooks ------------------------------------------------------------------------------------
DELIVERY_MAX_RETRIES = 5  # about 2 + 4 + 8 + 16 + 32 s of backoff (jittered); then failed, the reconcile catches it


@shared_task(
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
