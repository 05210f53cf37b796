"""MLflow's webhooks from a real MLflow server to Signet's receiver on a live server.

The webhook is created with the unmodified client (``MlflowClient().create_webhook``), the model is
registered, aliased and tagged with it, and the server itself signs and sends the deliveries: no
payload or signature here is built by the test.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection as database
from mlflow.entities.webhook import VALID_ENTITY_ACTIONS
from mlflow.tracking import MlflowClient
from pytest_django.live_server_helper import LiveServer

from apps.audit.models import AuditEvent
from apps.integrations.choices import DeliveryState
from apps.integrations.models import InboundDelivery, MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.services import webhooks
from apps.registry.models import ModelVersion
from tests.factories import make_project, make_user
from tests.integrations.conftest import register_version
from tests.integrations.factories import make_connection
from tests.mlflow_server import MlflowServer
from tests.workers import celery_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
logger = logging.getLogger(__name__)

# MLflow's client types its events as literals of its own; these are the same strings.
MODEL_EVENTS: list[Any] = sorted(webhooks.GOVERNED)
ALL_EVENTS: list[Any] = sorted(
    f"{entity}.{action}" for entity, actions in VALID_ENTITY_ACTIONS.items() for action in actions
)


@pytest.fixture(autouse=True)
def _receiver_threads_close_their_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow keeps its connection to the live server open between deliveries, and so the thread serving
    it would keep its database session (CONN_MAX_AGE) past the test, and the test database could not be
    dropped at the end of the run. Sessions the live server opens now close after each request."""
    monkeypatch.setitem(database.settings_dict, "CONN_MAX_AGE", 0)


def receiver(live_server: LiveServer, connection: MlflowConnection) -> str:
    return f"{live_server.url}/api/v1/mlflow/{connection.name}/webhook/"


def events_of(connection: MlflowConnection) -> list[str]:
    return sorted(InboundDelivery.objects.filter(connection=connection).values_list("event", flat=True))


def test_the_events_signet_knows_are_every_event_mlflow_defines() -> None:
    assert sorted([*webhooks.GOVERNED, *webhooks.IGNORED]) == ALL_EVENTS


def test_what_the_mlflow_server_sends_for_a_model_is_verified_stored_and_audited(
    live_server: LiveServer,
    mlflow: MlflowServer,
    mlflow_client: MlflowClient,
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
    administrator,
) -> None:
    connection, secret = make_connection(monkeypatch, administrator, mlflow.url)
    mlflow_client.create_webhook(
        name=f"signet-{connection.name}", url=receiver(live_server, connection), events=MODEL_EVENTS, secret=secret
    )
    version = register_version(mlflow_client, unique_name)  # registered_model.created, model_version.created
    mlflow_client.set_registered_model_alias(unique_name, "champion", version.version)
    mlflow_client.set_model_version_tag(unique_name, version.version, "team", "risk")
    mlflow_client.delete_model_version_tag(unique_name, version.version, "team")
    mlflow_client.delete_registered_model_alias(unique_name, "champion")

    assert wait_for(lambda: events_of(connection) == MODEL_EVENTS, timeout=30), events_of(connection)
    deliveries = InboundDelivery.objects.filter(connection=connection)
    assert {d.payload["data"]["name"] for d in deliveries} == {unique_name}
    assert deliveries.get(event="model_version_alias.created").payload["data"] == {
        "name": unique_name,
        "alias": "champion",
        "version": str(version.version),
    }
    assert all(d.state == "queued" for d in deliveries)  # no worker in this test: the work waits in the queue
    received = AuditEvent.objects.filter(action="integrations.webhook.received", data__connection=connection.name)
    assert received.count() == len(MODEL_EVENTS)
    assert set(received.values_list("actor_id", "actor_name")) == {(connection.service_user.pk, connection.actor_name)}


def test_mlflows_own_test_delivery_of_every_event_gets_the_answer_signet_documents(
    live_server: LiveServer,
    mlflow: MlflowServer,
    mlflow_client: MlflowClient,
    monkeypatch: pytest.MonkeyPatch,
    administrator,
) -> None:
    connection, secret = make_connection(monkeypatch, administrator, mlflow.url)
    hook = mlflow_client.create_webhook(
        name=f"signet-{connection.name}", url=receiver(live_server, connection), events=ALL_EVENTS, secret=secret
    )
    answers = {event: mlflow_client.test_webhook(hook.webhook_id, event=event) for event in ALL_EVENTS}
    for event, answer in answers.items():
        expected = 202 if event in webhooks.GOVERNED else 200
        assert (answer.success, answer.response_status) == (True, expected), (event, answer)
    assert events_of(connection) == MODEL_EVENTS  # the ignored ones (prompts, budgets) are not stored


def test_a_webhook_with_the_wrong_secret_or_none_is_refused_and_leaves_nothing(
    live_server: LiveServer,
    mlflow: MlflowServer,
    mlflow_client: MlflowClient,
    monkeypatch: pytest.MonkeyPatch,
    administrator,
) -> None:
    connection, _secret = make_connection(monkeypatch, administrator, mlflow.url)
    events = AuditEvent.objects.count()
    wrong = mlflow_client.create_webhook(
        name="wrong-secret", url=receiver(live_server, connection), events=MODEL_EVENTS, secret="not-the-one"
    )
    unsigned = mlflow_client.create_webhook(
        name="no-secret", url=receiver(live_server, connection), events=MODEL_EVENTS
    )
    refused = mlflow_client.test_webhook(wrong.webhook_id)
    assert (refused.success, refused.response_status) == (False, 401)
    assert "Bad signature" in (refused.response_body or "")
    refused = mlflow_client.test_webhook(unsigned.webhook_id)
    assert (refused.success, refused.response_status) == (False, 401)
    assert "Unsigned delivery" in (refused.response_body or "")
    assert InboundDelivery.objects.filter(connection=connection).count() == 0
    assert AuditEvent.objects.count() == events


def test_processing_rereads_the_model_a_delivery_names_and_running_it_twice_changes_nothing(
    live_server: LiveServer, mlflow: MlflowServer, mlflow_client: MlflowClient, unique_name: str,
    monkeypatch: pytest.MonkeyPatch, administrator,
) -> None:  # fmt: skip
    project = make_project(make_user("olivia", "data_science"))
    connection, secret = make_connection(monkeypatch, administrator, mlflow.url)
    mlflow_client.create_webhook(
        name=f"signet-{connection.name}", url=receiver(live_server, connection), events=MODEL_EVENTS, secret=secret
    )
    mlflow_client.create_registered_model(unique_name, tags={"signet.project": project.slug})
    mlflow_client.create_model_version(unique_name, source="s3://bucket/model", run_id=None)
    assert wait_for(lambda: len(events_of(connection)) == 2, timeout=30), events_of(connection)
    deliveries = list(InboundDelivery.objects.filter(connection=connection).order_by("pk"))
    for delivery in deliveries:
        assert webhooks.delivery_process(delivery.pk) == DeliveryState.DONE
    mirror = MlflowModel.objects.select_related("model").get(connection=connection, name=unique_name)
    assert mirror.model is not None
    assert mirror.model.project == project
    assert mirror.model.versions.get().number == 1  # the Signet version, registered by the bridge
    state = (AuditEvent.objects.count(), list(MlflowVersion.objects.filter(mlflow_model=mirror).values()))
    for delivery in deliveries:  # a redelivered task
        assert webhooks.delivery_process(delivery.pk) == DeliveryState.DONE
        InboundDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.QUEUED)
        assert webhooks.delivery_process(delivery.pk) == DeliveryState.DONE  # even re-read, the same
    assert (AuditEvent.objects.count(), list(MlflowVersion.objects.filter(mlflow_model=mirror).values())) == state


def test_a_delivery_naming_a_model_mlflow_does_not_have_is_done_and_changes_nothing(
    live_server: LiveServer, mlflow: MlflowServer, mlflow_client: MlflowClient, monkeypatch: pytest.MonkeyPatch,
    administrator,
) -> None:  # fmt: skip
    connection, secret = make_connection(monkeypatch, administrator, mlflow.url)
    hook = mlflow_client.create_webhook(
        name=f"signet-{connection.name}", url=receiver(live_server, connection), events=MODEL_EVENTS, secret=secret
    )
    # MLflow's test delivery names "example_model", which its registry does not hold.
    assert mlflow_client.test_webhook(hook.webhook_id, event="model_version.created").response_status == 202
    delivery = InboundDelivery.objects.get(connection=connection)
    assert delivery.payload["data"]["name"] == "example_model"
    assert webhooks.delivery_process(delivery.pk) == DeliveryState.DONE
    assert not MlflowModel.objects.filter(connection=connection).exists()


@pytest.mark.worker
def test_a_worker_makes_the_version_visible_in_signet_soon_after_mlflow_registers_it(
    tmp_path: Path, live_server: LiveServer, mlflow: MlflowServer, mlflow_client: MlflowClient, unique_name: str,
    monkeypatch: pytest.MonkeyPatch, administrator,
) -> None:  # fmt: skip
    project = make_project(make_user("olivia", "data_science"))
    connection, secret = make_connection(monkeypatch, administrator, mlflow.url)
    mlflow_client.create_webhook(
        name=f"signet-{connection.name}", url=receiver(live_server, connection), events=MODEL_EVENTS, secret=secret
    )
    mlflow_client.create_registered_model(unique_name, tags={"signet.project": project.slug})
    log = tmp_path / "worker.log"
    with celery_worker(log, queues="default"):
        assert wait_for(
            lambda: InboundDelivery.objects.filter(connection=connection, state=DeliveryState.DONE).count() == 1,
            timeout=30,
        ), log.read_text()
        latencies = []
        for number in (1, 2, 3):
            started = time.monotonic()
            mlflow_client.create_model_version(unique_name, source=f"s3://bucket/model-{number}", run_id=None)
            visible = wait_for(
                lambda n=number: ModelVersion.objects.filter(mlflow__mlflow_model__name=unique_name, number=n).exists(),
                timeout=30,
                interval=0.02,
            )
            assert visible, log.read_text()
            latencies.append(time.monotonic() - started)
        assert wait_for(
            lambda: not InboundDelivery.objects.filter(connection=connection, state=DeliveryState.QUEUED).exists(),
            timeout=30,
        ), log.read_text()
    deliveries = InboundDelivery.objects.filter(connection=connection)
    assert sorted(deliveries.values_list("state", flat=True)) == [DeliveryState.DONE] * 4
    assert all(d.processed_at is not None and d.processed_at >= d.received_at for d in deliveries)
    # Not a timed assertion (the bench measures p95 under load): the figures go to the test's log.
    in_worker = [
        (d.processed_at - d.received_at).total_seconds()
        for d in deliveries.filter(event="model_version.created").order_by("pk")
        if d.processed_at is not None
    ]
    message = (
        "MLflow version created to Signet version visible: "
        + ", ".join(f"{seconds * 1000:.0f} ms" for seconds in latencies)
        + "; of which delivery stored to processed: "
        + ", ".join(f"{seconds * 1000:.0f} ms" for seconds in in_worker)
    )
    logger.warning(message)
    print(message)
