"""After a complete pass the reconcile task judges unmoved protected aliases again and catches up write-backs.

An approval can expire or go stale while ``@champion`` stays put (no webhook, no audit event says so),
and a write-back can be lost while MLflow or the broker is away: the periodic pass is the safety net.
"""

from __future__ import annotations

import base64
import json
from typing import cast

import pytest
import redis
from django.conf import settings

from apps.integrations.models import MlflowModel, MlflowVersion
from apps.integrations.tasks import reconcile_connection
from tests.conftest import Org
from tests.integrations.factories import make_connection

pytestmark = pytest.mark.django_db


def queued(task: str) -> list[int]:
    """The first argument of each ``task`` message waiting in the real broker's queues."""
    broker = redis.Redis.from_url(str(settings.CELERY_BROKER_URL))
    found = []
    for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.SIGNET_PERIODIC_QUEUE):
        for raw in cast(list[bytes], broker.lrange(queue, 0, -1)):
            message = json.loads(raw)
            if message["headers"]["task"] == task:
                args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
                found.append(args[0])
    return found


def test_a_complete_pass_queues_the_alias_check_and_the_write_backs_it_cannot_see_move(
    org: Org, mlflow, mlflow_client, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow_client.create_registered_model(unique_name, tags={"signet.project": org.project.slug})
    mlflow_client.create_model_version(unique_name, source="s3://signet-tests/model")
    mlflow_client.set_registered_model_alias(unique_name, "champion", "1")
    connection, _secret = make_connection(monkeypatch, org.administrator, mlflow.url)
    checks, writes = (
        len(queued("apps.integrations.tasks.check_aliases")),
        len(queued("apps.integrations.tasks.write_back_version")),
    )

    assert reconcile_connection(connection.pk)["status"] == "succeeded"

    mirror = MlflowModel.objects.get(connection=connection, name=unique_name)
    assert mirror.pk in queued("apps.integrations.tasks.check_aliases")[checks:]
    # A draft nobody submitted carries no signet.* tags: nothing is due for it.
    version = MlflowVersion.objects.get(mlflow_model=mirror)
    assert version.pk not in queued("apps.integrations.tasks.write_back_version")[writes:]

    # Tags Signet meant to write but never did (the write-back was lost): the next pass queues them.
    assert version.version is not None
    MlflowVersion.objects.filter(pk=version.pk).update(written_tags={"signet.status": "in_review"})
    assert reconcile_connection(connection.pk)["status"] == "succeeded"
    assert version.pk in queued("apps.integrations.tasks.write_back_version")[writes:]
