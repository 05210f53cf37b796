"""MLflow's webhooks from a real MLflow server to Signet's receiver on a live server.

The webhook is created with the unmodified client (``MlflowClient().create_webhook``), the model is
registered, aliased and tagged with it, and the server itself signs and sends the deliveries: no
payload or signature here is built by the test.
"""

from __future__ import annotations

import pytest
from mlflow.entities.webhook import VALID_ENTITY_ACTIONS
from mlflow.tracking import MlflowClient
from pytest_django.live_server_helper import LiveServer

from apps.audit.models import AuditEvent
from apps.integrations.models import InboundDelivery, MlflowConnection
from apps.integrations.services import webhooks
from tests.integrations.conftest import register_version
from tests.integrations.factories import make_connection
from tests.mlflow_server import MlflowServer
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

MODEL_EVENTS = sorted(webhooks.GOVERNED)
ALL_EVENTS = sorted(f"{entity}.{action}" for entity, actions in VALID_ENTITY_ACTIONS.items() for action in actions)


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
