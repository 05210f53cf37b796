"""The bridge's background work: thin tasks, ids in, a service call."""

from __future__ import annotations

# Tasks (each in the part of #12 that owns its service): reconcile_connection(connection_id),
# reconcile_all() (beat), hash_artifact(mlflow_version_id), process_delivery(delivery_id),
# write_back(mlflow_version_id), check_aliases(mlflow_model_id).
