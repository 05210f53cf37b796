"""The bridge follows the governance state: each audit event of a version MLflow holds queues its follow-up.

Every state change writes its audit event in the change's transaction (DESIGN.md §5), so one
receiver on the event's ``post_save`` (``IntegrationsConfig.ready`` connects it) sees them all,
whichever app made them, without those apps knowing of MLflow. For an event about a version that
an MLflow version mirrors, it queues, once the transaction commits:

- ``write_back_version``: the signet.* tags in MLflow (submitted, review opened or closed, card
  edited or a run finished (either can make an approval stale), deployed, retired, its artifact
  changed);
- ``check_aliases`` of its MLflow model: an approval can make a protected alias legitimate, a stale
  one or a new blocking finding can make it unapproved.

The lookup is one indexed query per event of those kinds and none for the others; a version that
no MLflow version mirrors costs that one query. Events of the bridge itself (``integrations.*``)
are not followed, so the write-back never feeds itself.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from apps.audit.actions import Action
from apps.audit.models import AuditEvent
from apps.core.queue import enqueue
from apps.integrations.models import MlflowModel, MlflowVersion

logger = logging.getLogger("apps.integrations.receivers")

# Sent by name (apps/core/queue.py): apps.integrations.tasks imports the services.
WRITE_BACK = "apps.integrations.tasks.write_back_version"
CHECK_ALIASES = "apps.integrations.tasks.check_aliases"

# Events whose target is the version itself.
ON_VERSION = frozenset(
    {
        Action.VERSION_SUBMITTED,
        Action.VERSION_UPDATED,
        Action.VERSION_RETIRED,
        Action.MODEL_CARD_UPDATED,
        Action.DEPLOYMENT_RECORDED,
    }
)
ON_REVIEW = frozenset({Action.REVIEW_OPENED, Action.REVIEW_CLOSED, Action.REVIEW_WITHDRAWN})
ON_RUN = frozenset({Action.RUN_FINISHED})  # its data names the version
# A blocking finding changes the gate's answer, not the version's status: the aliases only.
ON_FINDING = frozenset({Action.FINDING_RAISED, Action.FINDING_UPDATED})
FOLLOWED = ON_VERSION | ON_REVIEW | ON_RUN
# The guard's own finding changes nothing more: its alias is already refused.
OWN_SOURCE = "mlflow-alias:"


def _mirrors_of_version(event: AuditEvent) -> list[tuple[int, int]]:
    """(mirror version id, mirror model id) of the version an event is about: one query."""
    mirrors = MlflowVersion.objects.filter(deleted_at=None)
    target = int(event.target_id) if event.target_id.isdigit() else None
    if event.action in ON_VERSION and event.target_type == "registry.modelversion" and target is not None:
        mirrors = mirrors.filter(version_id=target)
    elif event.action in ON_REVIEW and event.target_type == "workflows.review" and target is not None:
        mirrors = mirrors.filter(version__reviews__pk=target)
    elif event.action in ON_RUN and isinstance((event.data or {}).get("version"), int):
        mirrors = mirrors.filter(version_id=event.data["version"])
    else:
        return []
    return list(mirrors.filter(mlflow_model__connection__enabled=True).values_list("pk", "mlflow_model_id")[:1])


def _mirrors_of_finding(event: AuditEvent) -> list[int]:
    """The mirror model ids of the model a finding is on: one query."""
    own = str((event.data or {}).get("source", "")).startswith(OWN_SOURCE)
    if event.target_type != "workflows.finding" or own or not event.target_id.isdigit():
        return []
    return list(
        MlflowModel.objects.filter(
            model__findings__pk=int(event.target_id), deleted_at=None, connection__enabled=True
        ).values_list("pk", flat=True)
    )


def follow_audit_event(sender: Any, *, instance: AuditEvent, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """On ``post_save`` of an ``AuditEvent``: queue the write-back and the alias check it calls for."""
    if not created or raw or instance.action.startswith("integrations."):
        return
    if instance.action in ON_FINDING:
        models = _mirrors_of_finding(instance)
        if models:
            _after_commit([(CHECK_ALIASES, pk) for pk in models])
        return
    if instance.action not in FOLLOWED:
        return
    for version_pk, model_pk in _mirrors_of_version(instance):
        _after_commit([(WRITE_BACK, version_pk), (CHECK_ALIASES, model_pk)])


def _after_commit(tasks: list[tuple[str, int]]) -> None:
    def send() -> None:
        for task, pk in tasks:
            try:
                enqueue(task, pk)
            except Exception:  # noqa: BLE001 - kombu's errors while the broker is down vary; the reconcile catches up
                logger.warning("%s(%s): the broker is unreachable; the next reconcile catches up", task, pk)

    transaction.on_commit(send, robust=True)
