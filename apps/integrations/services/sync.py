"""Reading an MLflow registry into Signet: the full reconcile and the re-read of one model.

Owned by the sync work of issue #12 (to be written). Contract the other parts rely on:

- ``reconcile(connection) -> dict``: one full pass (pages of registered-models/search and
  model-versions/search), creating or updating the mirror rows and the governed Signet models and
  versions, marking what disappeared; resumable and never half-written.
- ``sync_model(connection, name) -> MlflowModel | None``: re-read one registered model, its versions
  and aliases through REST (what a webhook hints at); marks it deleted when MLflow says it is gone.
- ``model_claim(*, actor, mlflow_model, project) -> RegisteredModel``: a project owner takes a model
  from the intake list into their project.

After changing a model's aliases, both call ``apps.integrations.services.aliases.aliases_check``.
"""

from __future__ import annotations
