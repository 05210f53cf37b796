"""Webhooks delivered by a real Celery worker to a real HTTP receiver: signed, retried, logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import transaction
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from apps.notifications import services, signing, webhooks
from apps.notifications.choices import DeliveryStatus, EmailStatus, Event
from apps.notifications.models import Notification, WebhookDelivery
from apps.notifications.tasks import deliver_webhook
from tests.factories import TeamFunction, make_user
from tests.notifications import standard_webhooks as spec
from tests.workers import celery_worker, wait_for


@dataclass
class Receiver:
    """A local HTTP endpoint that answers the queued status codes (then 200) and keeps what it got."""

    url: str
    answers: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((dict(self.headers.items()), body))
            code = state.answers.pop(0) if state.answers else 200
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/signet-events"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def legacy_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The receiving side of the earlier format, as docs/webhooks.md showed it."""
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def announce_closed(title: str = "pd-model v3: approved") -> None:
    with transaction.atomic():
        services.announce(event=Event.REVIEW_CLOSED, title=title, url="/workflows/reviews/1/", data={"review": 1})


@pytest.fixture(autouse=True)
def _loopback_allowed(settings) -> None:
    # The receiver listens on loopback, an internal address Signet refuses unless its network is allowed.
    settings.SIGNET_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


# The same, for the worker processes.
WORKER_ENV = {
    "WEBHOOK_RETRY_DELAYS": "0.3,0.6",
    "WEBHOOK_TIMEOUT_SECONDS": "5",
    "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_signed_and_retried_with_back_off_until_the_receiver_accepts_it(
    receiver: Receiver, tmp_path: Path
) -> None:
    admin = make_user("adam", superuser=True)
    hook = webhooks.webhook_create(actor=admin, url=receiver.url, events=["review.closed"])
    receiver.answers = [500, 503]
    with celery_worker(tmp_path / "worker.log", env=WORKER_ENV):
        announce_closed()
        delivery = WebhookDelivery.objects.get()
        assert wait_for(lambda: WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED, timeout=30), (
            tmp_path / "worker.log"
        ).read_text()
    delivery.refresh_from_db()
    assert delivery.attempts == 3
    log = list(delivery.attempt_log.values_list("number", "status_code"))
    assert log == [(1, 500), (2, 503), (3, 200)]
    first, second = delivery.attempt_log.all()[:2]
    assert "500" in first.error
    assert 0.25 <= (second.attempted_at - first.attempted_at).total_seconds() < 10  # waited for the back-off

    assert len(receiver.received) == 3
    for received, body in receiver.received:
        headers = {name.lower(): value for name, value in received.items()}  # names are case-insensitive
        # What a receiver does with any Standard Webhooks library and the secret it was shown.
        assert Webhook(hook.secret).verify(body, headers) == json.loads(body)
        with pytest.raises(WebhookVerificationError):
            Webhook(signing.new_secret()).verify(body, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(hook.secret).verify(body + b" ", headers)
        assert headers["webhook-id"] == str(delivery.event_id)  # the same on every retry: receivers drop repeats
        # ... and what one written from the specification alone does (tests/notifications/standard_webhooks.py).
        assert spec.signature(hook.secret, headers["webhook-id"], headers["webhook-timestamp"], body) in (
            headers["webhook-signature"].split(" ")
        )
        assert spec.verify(hook.secret, headers, body)
        assert not spec.verify(signing.new_secret(), headers, body)
        # Receivers written for the earlier format keep working.
        assert legacy_signature(hook.secret, headers["signet-timestamp"], body) == headers["signet-signature"]
        assert headers[signing.EVENT_HEADER.lower()] == "review.closed"
        assert headers[signing.DELIVERY_HEADER.lower()] == str(delivery.event_id)
        payload = json.loads(body)
        assert payload["event"] == "review.closed"
        assert payload["title"] == "pd-model v3: approved"
        assert payload["data"] == {"review": 1}
        assert payload["id"] == str(delivery.event_id)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_keeps_failing_is_given_up_after_the_last_retry_and_every_attempt_is_logged(
    receiver: Receiver, tmp_path: Path
) -> None:
    admin = make_user("adam", superuser=True)
    webhooks.webhook_create(actor=admin, url=receiver.url, events=["review.closed"])
    unreachable = webhooks.webhook_create(
        actor=admin, url="http://127.0.0.1:9/nobody-listens", events=["review.closed"]
    )
    receiver.answers = [500, 500, 500, 500]
    with celery_worker(tmp_path / "worker.log", env=WORKER_ENV):
        announce_closed()
        assert wait_for(
            lambda: not WebhookDelivery.objects.exclude(status=DeliveryStatus.FAILED).exists(), timeout=30
        ), (tmp_path / "worker.log").read_text()
    for delivery in WebhookDelivery.objects.all():
        assert delivery.attempts == 3  # the first try and one per configured delay
        assert delivery.attempt_log.count() == 3
        assert delivery.delivered_at is None
    refused = WebhookDelivery.objects.get(subscription=unreachable).attempt_log.first()
    assert refused is not None
    assert refused.status_code is None
    assert refused.error.startswith("No answer")
    assert len(receiver.received) == 3


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_same_message_delivered_twice_makes_one_request(receiver: Receiver, tmp_path: Path) -> None:
    admin = make_user("adam", superuser=True)
    webhooks.webhook_create(actor=admin, url=receiver.url, events=["review.closed"])
    with celery_worker(tmp_path / "worker.log", env=WORKER_ENV):
        announce_closed()
        delivery = WebhookDelivery.objects.get()
        assert wait_for(lambda: WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED, timeout=30)
        deliver_webhook.delay(delivery.pk)
        deliver_webhook.delay(delivery.pk)
        announce_closed("second event")  # a later message proves the duplicates were consumed before it
        assert wait_for(lambda: len(receiver.received) >= 2, timeout=30)
    assert [json.loads(body)["title"] for _h, body in receiver.received] == ["pd-model v3: approved", "second event"]
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_email_after_commit(tmp_path: Path) -> None:
    validator = make_user("vera", TeamFunction.RISK_VALIDATION)
    outbox = tmp_path / "mail"
    env = {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(outbox)}
    with celery_worker(tmp_path / "worker.log", env=env):
        with transaction.atomic():
            services.announce(
                event=Event.FINDING_ASSIGNED,
                title="High finding on pd-model: Drift in income",
                body="PSI 0.31 on income.",
                recipients=[validator],
                url="/registry/versions/1/",
            )
        assert wait_for(lambda: Notification.objects.get().email_status == EmailStatus.SENT, timeout=30), (
            tmp_path / "worker.log"
        ).read_text()
    sent = "".join(path.read_text() for path in outbox.iterdir())
    assert "Subject: [Signet] High finding on pd-model: Drift in income" in sent
    assert "To: vera@example.test" in sent
    assert "PSI 0.31 on income." in sent


@pytest.mark.django_db
def test_an_internal_address_is_refused_and_logged_unless_its_network_is_allowed(receiver: Receiver, settings) -> None:
    settings.SIGNET_WEBHOOK_RETRY_DELAYS = [0.01]
    admin = make_user("adam", superuser=True)
    webhooks.webhook_create(actor=admin, url=receiver.url, events=["review.closed"])
    # Subscribed while loopback was allowed; the administrator has narrowed the networks since.
    settings.SIGNET_WEBHOOK_ALLOWED_NETWORKS = []
    announce_closed()
    delivery = WebhookDelivery.objects.get()
    assert webhooks.webhook_deliver(delivery.pk) == (DeliveryStatus.PENDING, 0.01)
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("Refused: 127.0.0.1 is the internal address 127.0.0.1 (loopback)")
    assert receiver.received == []
    settings.SIGNET_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    assert webhooks.webhook_deliver(delivery.pk) == (DeliveryStatus.SUCCEEDED, None)
    assert len(receiver.received) == 1
