"""The receiver of MLflow's webhooks, fed deliveries built and signed exactly as MLflow builds them.

MLflow's body is ``json.dumps`` of ``{entity, action, timestamp, data}`` and its signature is
``v1,`` + base64 HMAC-SHA256 of ``<delivery id>.<timestamp>.<body>`` keyed with the UTF-8 bytes of
the secret (docs/mlflow-bridge-research.md §1); the tests sign with ``hmac`` themselves, not with
Signet's code. Every hostile delivery answers 4xx with a reason and leaves no delivery, no audit
event and no task behind.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import redis
from django.conf import settings
from django.test import Client
from standardwebhooks import Webhook

from apps.audit.models import AuditEvent
from apps.integrations.choices import DeliveryState
from apps.integrations.models import InboundDelivery, MlflowConnection
from apps.integrations.services import webhooks
from apps.integrations.services.connections import connection_update
from apps.integrations.tasks import process_delivery
from tests.integrations.factories import make_connection

pytestmark = pytest.mark.django_db

PROCESS_DELIVERY = "apps.integrations.tasks.process_delivery"


def mlflow_body(entity: str = "model_version_alias", action: str = "created", **data: Any) -> bytes:
    """A body as mlflow/webhooks/delivery.py writes it."""
    data = data or {"name": "churn", "alias": "champion", "version": "3"}
    payload = {"entity": entity, "action": action, "timestamp": datetime.now(UTC).isoformat(), "data": data}
    return json.dumps(payload).encode("utf-8")


def mlflow_signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """MLflow's ``_generate_hmac_signature``: the secret's UTF-8 bytes as key, ``id.timestamp.body`` signed.

    MLflow formats the body's text into the message; for a UTF-8 body that is these very bytes.
    """
    message = f"{delivery_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret.encode("utf-8"), message, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def mlflow_headers(
    secret: str, body: bytes, *, delivery_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    delivery_id = delivery_id or str(uuid.uuid4())
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    return {
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Signature": mlflow_signature(secret, delivery_id, stamp, body),
    }


def url_of(connection: MlflowConnection | str) -> str:
    return f"/api/v1/mlflow/{getattr(connection, 'name', connection)}/webhook/"


def post(connection: MlflowConnection | str, body: bytes, headers: dict[str, str], **extra: Any):
    return Client().post(
        url_of(connection), data=body, content_type=extra.pop("content_type", "application/json"), headers=headers
    )


def queued_deliveries() -> list[int]:
    """The delivery ids of the process_delivery messages waiting in this run's queue of the real broker."""
    broker = redis.Redis.from_url(str(settings.CELERY_BROKER_URL))
    ids = []
    for raw in cast(list[bytes], broker.lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)):
        message = json.loads(raw)
        if message["headers"]["task"] == PROCESS_DELIVERY:
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            ids.append(args[0])
    return ids


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch, administrator) -> tuple[MlflowConnection, str]:
    return make_connection(monkeypatch, administrator, "http://127.0.0.1:9/")


@pytest.fixture
def unchanged(django_capture_on_commit_callbacks) -> Iterator[None]:
    """Asserts that the test stored no delivery, recorded no audit event and queued no task."""
    deliveries, events = InboundDelivery.objects.count(), AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        yield
    assert InboundDelivery.objects.count() == deliveries
    assert AuditEvent.objects.count() == events
    assert callbacks == []


def assert_refused(response, status: int, code: str, says: str) -> None:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code, error
    assert says in error["message"], error


def test_a_delivery_signed_as_mlflow_signs_is_stored_audited_and_queued(
    connection, django_capture_on_commit_callbacks
) -> None:
    conn, secret = connection
    body = mlflow_body()
    headers = mlflow_headers(secret, body)
    events = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(conn, body, headers)
    assert response.status_code == 202, response.content
    delivery = InboundDelivery.objects.get()
    assert response.json() == {"status": "queued", "delivery": delivery.pk}
    assert delivery.connection == conn
    assert delivery.delivery_id == headers["X-MLflow-Delivery-Id"]
    assert delivery.event == "model_version_alias.created"
    assert delivery.state == DeliveryState.QUEUED
    assert delivery.payload["data"] == {"name": "churn", "alias": "champion", "version": "3"}
    assert delivery.payload["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert int(delivery.sent_at.timestamp()) == int(headers["X-MLflow-Timestamp"])
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.latest("seq")
    assert event.action == "integrations.webhook.received"
    assert (event.actor_id, event.actor_name) == (conn.service_user.pk, f"mlflow:{conn.name}")
    assert event.data["event"] == "model_version_alias.created"
    assert event.data["name"] == "churn"
    assert queued_deliveries().count(delivery.pk) == 1


def test_mlflows_signature_is_the_standard_webhooks_one_with_the_secret_as_key() -> None:
    """Research §1: standardwebhooks verifies a delivery with remapped headers and base64 of the secret."""
    secret, body = "s3cret-for-mlflow", mlflow_body()
    headers = mlflow_headers(secret, body)
    verifier = Webhook(base64.b64encode(secret.encode()).decode())
    remapped = {
        "webhook-id": headers["X-MLflow-Delivery-Id"],
        "webhook-timestamp": headers["X-MLflow-Timestamp"],
        "webhook-signature": headers["X-MLflow-Signature"],
    }
    assert verifier.verify(body.decode(), remapped) == json.loads(body)
    assert (
        webhooks.signature(secret, remapped["webhook-id"], remapped["webhook-timestamp"], body)
        == (headers["X-MLflow-Signature"])
    )


@pytest.mark.parametrize(
    ("entity", "action", "data"),
    [
        ("registered_model", "created", {"name": "churn", "tags": {"signet.project": "p"}, "description": None}),
        (
            "model_version",
            "created",
            {"name": "churn", "version": "1", "source": "models:/m-1", "run_id": None, "tags": {}, "description": None},
        ),
        ("model_version_tag", "set", {"name": "churn", "version": "1", "key": "k", "value": "v"}),
        ("model_version_tag", "deleted", {"name": "churn", "version": "1", "key": "k"}),
        ("model_version_alias", "deleted", {"name": "churn", "alias": "champion"}),
    ],
)
def test_each_model_event_mlflow_sends_is_taken(connection, entity: str, action: str, data: dict[str, Any]) -> None:
    conn, secret = connection
    body = mlflow_body(entity, action, **data)
    response = post(conn, body, mlflow_headers(secret, body))
    assert response.status_code == 202, response.content
    assert InboundDelivery.objects.get().event == f"{entity}.{action}"


def test_a_retried_delivery_answers_duplicate_and_changes_nothing(
    connection, django_capture_on_commit_callbacks
) -> None:
    conn, secret = connection
    body = mlflow_body()
    headers = mlflow_headers(secret, body)
    with django_capture_on_commit_callbacks(execute=True):
        first = post(conn, body, headers)
    assert first.status_code == 202
    deliveries, events, queued = InboundDelivery.objects.count(), AuditEvent.objects.count(), queued_deliveries()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = post(conn, body, headers)  # MLflow's retry: same id, timestamp, signature and body
    assert again.status_code == 200, again.content
    assert again.json() == {"status": "duplicate", "delivery": first.json()["delivery"]}
    assert (InboundDelivery.objects.count(), AuditEvent.objects.count()) == (deliveries, events)
    assert callbacks == []
    assert queued_deliveries() == queued


def test_a_delivery_id_seen_before_with_another_body_is_refused(connection, django_capture_on_commit_callbacks) -> None:
    conn, secret = connection
    body = mlflow_body()
    headers = mlflow_headers(secret, body)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(conn, body, headers).status_code == 202
    other = mlflow_body(name="churn", alias="champion", version="9")
    deliveries, events = InboundDelivery.objects.count(), AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(conn, other, mlflow_headers(secret, other, delivery_id=headers["X-MLflow-Delivery-Id"]))
    assert_refused(response, 409, "conflict", "received before with another body")
    assert (InboundDelivery.objects.count(), AuditEvent.objects.count()) == (deliveries, events)
    assert callbacks == []
    assert InboundDelivery.objects.get().payload["data"]["version"] == "3"


def test_the_same_delivery_id_on_two_connections_is_two_deliveries(monkeypatch, administrator) -> None:
    first, first_secret = make_connection(monkeypatch, administrator, "http://127.0.0.1:9/")
    second, second_secret = make_connection(monkeypatch, administrator, "http://127.0.0.1:9/")
    body, delivery_id = mlflow_body(), str(uuid.uuid4())
    assert post(first, body, mlflow_headers(first_secret, body, delivery_id=delivery_id)).status_code == 202
    assert post(second, body, mlflow_headers(second_secret, body, delivery_id=delivery_id)).status_code == 202
    assert InboundDelivery.objects.filter(delivery_id=delivery_id).count() == 2


def test_a_bad_signature_is_refused(connection, unchanged) -> None:
    conn, secret = connection
    body = mlflow_body()
    headers = mlflow_headers(secret, body)
    headers["X-MLflow-Signature"] = "v1," + base64.b64encode(b"x" * 32).decode()
    assert_refused(post(conn, body, headers), 401, "bad_signature", "Bad signature")


def test_a_body_changed_after_signing_is_refused(connection, unchanged) -> None:
    conn, secret = connection
    body = mlflow_body()
    headers = mlflow_headers(secret, body)
    tampered = body.replace(b'"3"', b'"4"')
    assert_refused(post(conn, tampered, headers), 401, "bad_signature", "Bad signature")


def test_a_delivery_signed_with_another_secret_is_refused(connection, unchanged) -> None:
    conn, _secret = connection
    body = mlflow_body()
    assert_refused(post(conn, body, mlflow_headers("not-the-secret", body)), 401, "bad_signature", "Bad signature")


def test_a_signature_that_is_not_base64_is_refused(connection, unchanged) -> None:
    conn, secret = connection
    body = mlflow_body()
    headers = {**mlflow_headers(secret, body), "X-MLflow-Signature": "v1,***not base64***"}
    assert_refused(post(conn, body, headers), 401, "bad_signature", "Bad signature")


def test_an_unsigned_delivery_is_refused(connection, unchanged) -> None:
    conn, secret = connection
    body = mlflow_body()
    headers = mlflow_headers(secret, body)
    del headers["X-MLflow-Signature"]  # what MLflow sends for a webhook created without a secret
    assert_refused(post(conn, body, headers), 401, "unsigned", "Unsigned delivery")


@pytest.mark.parametrize("header", ["X-MLflow-Delivery-Id", "X-MLflow-Timestamp"])
def test_a_delivery_without_its_id_or_timestamp_is_refused(connection, unchanged, header: str) -> None:
    conn, secret = connection
    body = mlflow_body()
    headers = mlflow_headers(secret, body)
    del headers[header]
    assert_refused(post(conn, body, headers), 400, "invalid", header)


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-MLflow-Timestamp", "yesterday"), ("X-MLflow-Timestamp", "1e9"), ("X-MLflow-Delivery-Id", "../" * 40)],
)
def test_malformed_headers_are_refused(connection, unchanged, header: str, value: str) -> None:
    conn, secret = connection
    body = mlflow_body()
    headers = {**mlflow_headers(secret, body), header: value}
    assert_refused(post(conn, body, headers), 400, "invalid", header)


@pytest.mark.parametrize("offset", [-301, 301, -86400 * 365])
def test_a_stale_or_future_timestamp_is_refused_even_when_signed(connection, unchanged, offset: int) -> None:
    conn, secret = connection
    body = mlflow_body()
    headers = mlflow_headers(secret, body, timestamp=int(time.time()) + offset)
    assert_refused(post(conn, body, headers), 401, "stale", "Stale or future timestamp")


def test_a_timestamp_within_five_minutes_is_taken(connection) -> None:
    conn, secret = connection
    for offset in (-280, 280):
        body = mlflow_body()
        assert post(conn, body, mlflow_headers(secret, body, timestamp=int(time.time()) + offset)).status_code == 202


def test_an_unknown_connection_is_a_404(connection, unchanged) -> None:
    _conn, secret = connection
    body = mlflow_body()
    assert_refused(post("no-such-server", body, mlflow_headers(secret, body)), 404, "not_found", "No enabled")


def test_a_disabled_connection_takes_no_deliveries(
    connection, administrator, django_capture_on_commit_callbacks
) -> None:
    conn, secret = connection
    connection_update(actor=administrator, connection=conn, enabled=False)
    deliveries, events = InboundDelivery.objects.count(), AuditEvent.objects.count()
    body = mlflow_body()
    assert_refused(post(conn, body, mlflow_headers(secret, body)), 404, "not_found", "No enabled")
    assert (InboundDelivery.objects.count(), AuditEvent.objects.count()) == (deliveries, events)


def test_a_connection_whose_secret_is_gone_answers_503_and_stores_nothing(
    connection, unchanged, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, secret = connection
    monkeypatch.delenv(conn.webhook_secret_env)
    body = mlflow_body()
    response = post(conn, body, mlflow_headers(secret, body))
    assert_refused(response, 503, "unavailable", "webhook secret is not set up")
    assert conn.webhook_secret_env not in response.content.decode()  # where Signet looks is for the log only


def test_a_huge_body_is_refused_before_anything_else(connection, unchanged) -> None:
    conn, secret = connection
    body = mlflow_body(name="churn", alias="champion", version="3", padding="x" * (300 * 1024))
    assert_refused(post(conn, body, mlflow_headers(secret, body)), 413, "too_large", "larger than 256 KB")


def test_a_body_just_under_the_limit_is_read_whole(connection) -> None:
    conn, secret = connection
    body = mlflow_body(name="churn", alias="champion", version="3")
    body = body[:-1] + b" " * (webhooks.MAX_BODY_BYTES - len(body)) + b"}"
    assert len(body) == webhooks.MAX_BODY_BYTES
    assert post(conn, body, mlflow_headers(secret, body)).status_code == 202


def test_a_body_in_another_media_type_is_refused(connection, unchanged) -> None:
    conn, secret = connection
    body = mlflow_body()
    response = post(conn, body, mlflow_headers(secret, body), content_type="text/plain")
    assert_refused(response, 415, "unsupported_media_type", "text/plain")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"entity=model_version", "not JSON"),
        (b"\xff\xfe{}", "not JSON"),
        (b'{"entity": NaN}', "not JSON"),
        (b"[1, 2, 3]", "JSON object"),
        (b'"model_version.created"', "JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (
            json.dumps(
                {
                    "entity": "model_version_alias",
                    "action": "created",
                    "data": {"name": "m", "tags": [[[[[[[[[1]]]]]]]]]},
                }
            ).encode(),
            "nests more than",
        ),
    ],
    ids=["form", "not-utf8", "nan", "array", "string", "very-deep", "deep"],
)
def test_signed_bodies_that_are_not_an_mlflow_payload_are_refused(
    connection, unchanged, body: bytes, says: str
) -> None:
    conn, secret = connection
    assert_refused(post(conn, body, mlflow_headers(secret, body)), 400, "invalid", says)


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"entity": 5, "action": "created", "data": {}}, "entity"),
        (
            {
                "entity": "model_version_alias",
                "action": "created",
                "data": {"name": "m\u0000", "alias": "a", "version": "1"},
            },
            "NUL",
        ),
        (
            {
                "entity": "registered_model",
                "action": "created",
                "data": {"name": "m", "tags": {"k": "v\u0000"}, "description": None},
            },
            "NUL",
        ),
        ({"entity": "model_version_alias", "action": ["created"], "data": {}}, "action"),
        ({"entity": "model_version_alias", "action": "exploded", "data": {}}, "not an MLflow webhook event"),
        ({"entity": "model_version_alias", "action": "created"}, "data"),
        ({"entity": "model_version_alias", "action": "created", "data": ["churn"]}, "data"),
        ({"entity": "model_version_alias", "action": "created", "data": {"alias": "a", "version": "1"}}, "data.name"),
        (
            {"entity": "model_version_alias", "action": "created", "data": {"name": 7, "alias": "a", "version": "1"}},
            "data.name",
        ),
        (
            {
                "entity": "model_version_alias",
                "action": "created",
                "data": {"name": "m", "alias": "a", "version": "v1"},
            },
            "data.version",
        ),
        (
            {
                "entity": "model_version_alias",
                "action": "created",
                "data": {"name": "m", "alias": "a", "version": True},
            },
            "data.version",
        ),
        (
            {
                "entity": "model_version_alias",
                "action": "created",
                "data": {"name": "x" * 300, "alias": "a", "version": "1"},
            },
            "data.name",
        ),
        ({"entity": "registered_model", "action": "created", "data": {"name": "m", "tags": ["a"]}}, "data.tags"),
        ({"entity": "registered_model", "action": "created", "data": {"name": "m", "tags": {"k": 1}}}, "data.tags"),
        (
            {"entity": "model_version", "action": "created", "data": {"name": "m", "version": "1", "source": 5}},
            "data.source",
        ),
        (
            {
                "entity": "model_version_alias",
                "action": "created",
                "timestamp": 17,
                "data": {"name": "m", "alias": "a"},
            },
            "timestamp",
        ),
    ],
)
def test_signed_payloads_with_wrong_types_are_refused(
    connection, unchanged, payload: dict[str, Any], says: str
) -> None:
    conn, secret = connection
    body = json.dumps(payload).encode()
    assert_refused(post(conn, body, mlflow_headers(secret, body)), 400, "invalid", says)


@pytest.mark.parametrize(
    ("entity", "action"), [("prompt_alias", "created"), ("prompt_version", "created"), ("budget_policy", "exceeded")]
)
def test_mlflow_events_signet_does_not_govern_are_answered_ignored_and_not_stored(
    connection, unchanged, entity: str, action: str
) -> None:
    conn, secret = connection
    body = mlflow_body(entity, action, name="a-prompt", alias="prod", version="1")
    response = post(conn, body, mlflow_headers(secret, body))
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ignored"}


def test_an_ignored_event_must_still_be_signed(connection, unchanged) -> None:
    conn, _secret = connection
    body = mlflow_body("prompt_alias", "created", name="p", alias="a", version="1")
    assert_refused(post(conn, body, mlflow_headers("wrong", body)), 401, "bad_signature", "Bad signature")


def test_only_post_is_offered(connection) -> None:
    conn, _secret = connection
    assert Client().get(url_of(conn)).status_code == 405


def test_a_browser_session_needs_no_csrf_token_and_grants_nothing(connection, administrator) -> None:
    conn, secret = connection
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(administrator)
    body = mlflow_body()
    response = browser.post(url_of(conn), data=body, content_type="application/json", headers={})
    assert_refused(response, 400, "invalid", "X-MLflow-Delivery-Id")  # not a 403 for CSRF, and no session rights
    headers = mlflow_headers(secret, body)
    assert browser.post(url_of(conn), data=body, content_type="application/json", headers=headers).status_code == 202


def test_deliveries_count_against_the_address_rate(connection, settings) -> None:
    conn, secret = connection
    settings.SIGNET_API_RATES = {"token": "3/minute", "address": "2/minute"}
    answers = []
    for _ in range(3):
        body = mlflow_body()
        answers.append(post(conn, body, mlflow_headers(secret, body)).status_code)
    assert answers == [202, 202, 429]
    assert InboundDelivery.objects.count() == 2


def test_the_schema_declares_the_receiver_without_authentication(client: Client) -> None:
    schema = client.get("/api/v1/schema/?format=json", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/mlflow/{connection}/webhook/"]["post"]
    assert operation.get("security", []) == []  # no token, no session: the signature authenticates
    headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
    assert all(
        headers[name]["required"] for name in ("X-MLflow-Delivery-Id", "X-MLflow-Timestamp", "X-MLflow-Signature")
    )
    assert {"200", "202", "400", "401", "404", "409", "413", "503"} <= set(operation["responses"])


def _received(connection: MlflowConnection, secret: str) -> InboundDelivery:
    body = mlflow_body()
    response = post(connection, body, mlflow_headers(secret, body))
    assert response.status_code == 202, response.content
    return InboundDelivery.objects.get(pk=response.json()["delivery"])


def test_processing_while_mlflow_is_unreachable_keeps_the_error_then_fails_on_the_last_attempt(connection) -> None:
    conn, secret = connection  # its server, 127.0.0.1:9, answers nothing
    delivery = _received(conn, secret)
    with pytest.raises(webhooks.DeliveryRetry):
        webhooks.delivery_process(delivery.pk, last_attempt=False)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.processed_at) == (DeliveryState.QUEUED, None)
    assert delivery.error  # what went wrong shows while the task waits to try again
    assert webhooks.delivery_process(delivery.pk, last_attempt=True) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.processed_at is not None
    assert delivery.error


def test_the_task_retries_a_bounded_number_of_times_and_then_marks_the_delivery_failed(connection) -> None:
    conn, secret = connection
    delivery = _received(conn, secret)
    result = process_delivery.apply(args=(delivery.pk,))  # eager: Celery runs each retry at once
    assert result.get() == DeliveryState.FAILED
    assert result.task_id
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED


def test_a_delivery_already_done_is_left_alone_when_its_task_comes_again(connection) -> None:
    conn, secret = connection
    delivery = _received(conn, secret)
    InboundDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DONE)
    events = AuditEvent.objects.count()
    assert webhooks.delivery_process(delivery.pk) == DeliveryState.DONE  # MLflow is not even asked
    assert AuditEvent.objects.count() == events
    assert webhooks.delivery_process(10**9) == "missing"
