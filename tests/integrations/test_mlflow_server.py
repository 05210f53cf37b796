"""What the MLflow bridge (#12) relies on, checked against a real MLflow server and its unmodified client.

Not Signet's code: these pin the facts of docs/mlflow-bridge-research.md (§1 webhooks and their
signatures, §2 the REST reads, the artifact proxy, §3 the test server) so that a new MLflow that
changes one fails here, by name, before it fails somewhere in the bridge.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from mlflow.entities.webhook import WebhookEvent, WebhookEventStr
from mlflow.tracking import MlflowClient
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.integrations.conftest import register_version, use_server
from tests.mlflow_server import MlflowServer, mlflow_server
from tests.workers import wait_for

API = "/api/2.0/mlflow"


def get(server: MlflowServer, endpoint: str, /, **params: Any) -> Any:
    response = requests.get(server.url + endpoint, params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def search_all(server: MlflowServer, what: str, key: str, **params: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Every row of a ``<what>/search``, a page at a time; also the page tokens it was handed."""
    rows: list[dict[str, Any]] = []
    tokens: list[str] = []
    token: str | None = None
    while True:
        page = get(server, f"{API}/{what}/search", **params, **({"page_token": token} if token else {}))
        rows += page.get(key, [])
        token = page.get("next_page_token")
        if not token:
            return rows, tokens
        tokens.append(token)


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> tuple[str, str]:
        payload = json.loads(self.body)
        return payload["entity"], payload["action"]


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST it gets and answers 200."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                deliveries.append(Delivery(dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/mlflow"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


def verify(delivery: Delivery, secret: str) -> Any:
    """Check a delivery's signature the way research §1 says the bridge will: standardwebhooks on the raw body.

    MLflow's headers renamed to the Standard Webhooks ones, and base64 of the secret, since the
    library decodes its secret from base64 and MLflow signs with the secret's UTF-8 bytes.
    """
    headers = {
        "webhook-id": delivery.headers["X-MLflow-Delivery-Id"],
        "webhook-timestamp": delivery.headers["X-MLflow-Timestamp"],
        "webhook-signature": delivery.headers["X-MLflow-Signature"],
    }
    return Webhook(base64.b64encode(secret.encode()).decode()).verify(delivery.body, headers)


def test_versions_aliases_and_tags_read_back_through_plain_rest_a_page_at_a_time(
    mlflow: MlflowServer, mlflow_client: MlflowClient, unique_name: str
) -> None:
    first = register_version(mlflow_client, unique_name, params={"C": 1.0}, metrics={"auc": 0.81}, git_commit="a" * 40)
    second = register_version(mlflow_client, unique_name, dataset="applications-2026")
    assert (first.version, second.version) == ("1", "2")
    mlflow_client.set_registered_model_alias(unique_name, "champion", "1")
    mlflow_client.set_registered_model_alias(unique_name, "champion", "2")  # moved: no "moved", just set again
    mlflow_client.set_model_version_tag(unique_name, "1", "validation_status", "approved")
    mlflow_client.create_registered_model(f"{unique_name}-other")

    models, model_tokens = search_all(
        mlflow, "registered-models", "registered_models",
        filter=f"name LIKE '{unique_name}%'", max_results=1, order_by="name ASC",
    )  # fmt: skip
    assert [model["name"] for model in models] == [unique_name, f"{unique_name}-other"]
    assert models[0]["aliases"] == [{"alias": "champion", "version": "2"}]
    # Page tokens are offsets (base64 of {"offset": N}): rows can shift between pages under writes.
    assert [json.loads(base64.b64decode(token)) for token in model_tokens] == [{"offset": 1}]

    versions, version_tokens = search_all(
        mlflow, "model-versions", "model_versions",
        filter=f"name = '{unique_name}'", max_results=1, order_by="version_number ASC",
    )  # fmt: skip
    assert [version["version"] for version in versions] == ["1", "2"]
    assert len(version_tokens) == 1
    assert {"key": "validation_status", "value": "approved"} in versions[0]["tags"]
    assert "tags" not in versions[1]
    assert [version["run_id"] for version in versions] == [first.run_id, second.run_id]
    assert versions[0]["source"].startswith("models:/m-")  # MLflow 3 registers the LoggedModel

    alias = get(mlflow, f"{API}/registered-models/alias", name=unique_name, alias="champion")
    assert alias["model_version"]["version"] == "2"
    run = get(mlflow, f"{API}/runs/get", run_id=first.run_id)["run"]
    assert {"key": "mlflow.source.git.commit", "value": "a" * 40} in run["data"]["tags"]
    assert {"key": "C", "value": "1.0"} in run["data"]["params"]
    assert run["data"]["metrics"][0]["key"] == "auc"
    (dataset_input,) = get(mlflow, f"{API}/runs/get", run_id=second.run_id)["run"]["inputs"]["dataset_inputs"]
    assert dataset_input["dataset"]["name"] == "applications-2026"
    assert dataset_input["dataset"]["digest"]
    assert {"key": "mlflow.data.context", "value": "training"} in dataset_input["tags"]

    missing = requests.get(f"{mlflow.url}{API}/registered-models/get", params={"name": f"{unique_name}-x"}, timeout=30)
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_webhook_deliveries_are_signed_and_verify_with_standardwebhooks(
    mlflow_client: MlflowClient, unique_name: str
) -> None:
    secret = "s3cret-for-signet"  # MLflow signs with the secret's UTF-8 bytes
    events: list[WebhookEventStr | WebhookEvent] = [
        "registered_model.created", "model_version.created", "model_version_tag.set",
        "model_version_alias.created", "model_version_alias.deleted",
    ]  # fmt: skip
    with receiver() as hooks:
        webhook = mlflow_client.create_webhook(unique_name, hooks.url, events, secret=secret)
        assert mlflow_client.get_webhook(webhook.webhook_id).url == hooks.url
        register_version(mlflow_client, unique_name)
        mlflow_client.set_registered_model_alias(unique_name, "champion", "1")
        register_version(mlflow_client, unique_name)
        mlflow_client.set_registered_model_alias(unique_name, "champion", "2")
        mlflow_client.set_registered_model_tag(unique_name, "owner", "risk")  # no event for model tags
        mlflow_client.set_model_version_tag(unique_name, "2", "validation_status", "approved")
        mlflow_client.delete_registered_model_alias(unique_name, "champion")
        expected = 7  # the model, two versions, two alias sets, the version tag, the alias deleted
        assert wait_for(lambda: len(hooks.deliveries) >= expected, timeout=30), hooks.deliveries
        wait_for(lambda: len(hooks.deliveries) > expected, timeout=1)  # nothing else comes (model tags)
        deliveries = list(hooks.deliveries)

    assert len(deliveries) == expected, [delivery.event for delivery in deliveries]
    payloads = [verify(delivery, secret) for delivery in deliveries]
    assert sorted(delivery.event for delivery in deliveries) == sorted(
        [("registered_model", "created"), ("model_version", "created"), ("model_version", "created")]
        + [("model_version_alias", "created")] * 2
        + [("model_version_tag", "set"), ("model_version_alias", "deleted")]
    )
    alias_sets = [p for p in payloads if (p["entity"], p["action"]) == ("model_version_alias", "created")]
    moves = sorted(payload["data"]["version"] for payload in alias_sets)
    assert moves == ["1", "2"]  # a move is a second "created", with only the new version
    assert all(payload["data"]["name"] == unique_name for payload in payloads)
    assert len({delivery.headers["X-MLflow-Delivery-Id"] for delivery in deliveries}) == expected
    assert all(delivery.headers["X-MLflow-Signature"].startswith("v1,") for delivery in deliveries)

    tampered = Delivery(deliveries[0].headers, deliveries[0].body.replace(b"}", b' , "x": 1}', 1))
    with pytest.raises(WebhookVerificationError):
        verify(tampered, secret)
    with pytest.raises(WebhookVerificationError):
        verify(deliveries[0], "another-secret")


def test_a_webhook_without_secret_sends_no_signature(mlflow_client: MlflowClient, unique_name: str) -> None:
    with receiver() as hooks:
        mlflow_client.create_webhook(unique_name, hooks.url, ["registered_model.created"])
        mlflow_client.create_registered_model(unique_name)
        assert wait_for(lambda: hooks.deliveries, timeout=30)
    (delivery,) = hooks.deliveries
    assert "X-MLflow-Signature" not in delivery.headers  # so the bridge always sets a secret, refuses unsigned
    assert {"X-MLflow-Delivery-Id", "X-MLflow-Timestamp"} <= set(delivery.headers)


def test_model_files_download_through_the_artifact_proxy_as_they_are_on_disk(
    mlflow: MlflowServer, mlflow_client: MlflowClient, unique_name: str
) -> None:
    version = register_version(mlflow_client, unique_name)
    assert version.source is not None
    model_id = version.source.removeprefix("models:/")
    artifact_uri = get(mlflow, f"{API}/logged-models/{model_id}")["model"]["info"]["artifact_uri"]
    assert artifact_uri.startswith("mlflow-artifacts:/")
    download = get(mlflow, f"{API}/model-versions/get-download-uri", name=unique_name, version=version.version)
    assert download["artifact_uri"] == artifact_uri
    relative = artifact_uri.removeprefix("mlflow-artifacts:/")
    listing = get(mlflow, "/api/2.0/mlflow-artifacts/artifacts", path=relative)
    files = {Path(entry["path"]).name: entry for entry in listing["files"]}
    assert {"MLmodel", "model.pkl", "requirements.txt"} <= set(files)

    on_disk = mlflow.artifacts_dir / relative / "model.pkl"
    digest = hashlib.sha256()
    with requests.get(
        f"{mlflow.url}/api/2.0/mlflow-artifacts/artifacts/{relative}/model.pkl", stream=True, timeout=30
    ) as response:
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == on_disk.stat().st_size == int(files["model.pkl"]["file_size"])
        for chunk in response.iter_content(chunk_size=64 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(on_disk.read_bytes()).hexdigest()


def test_registry_and_webhooks_survive_a_crash_and_a_restart_on_the_same_port_and_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unique_name: str
) -> None:
    secret = "kept-across-restarts"
    with mlflow_server(tmp_path) as server, receiver() as hooks:
        client = use_server(server, monkeypatch)
        client.create_webhook(unique_name, hooks.url, ["model_version_alias.created"], secret=secret)
        register_version(client, unique_name)
        client.set_registered_model_alias(unique_name, "champion", "1")
        # Deliveries are sent from a thread of the server after it answered: one still in flight when
        # the server dies is lost, with no record of it anywhere (the reconcile is the safety net).
        assert wait_for(lambda: len(hooks.deliveries) == 1, timeout=30), hooks.deliveries
        url = server.url

        server.kill()  # an outage: SIGKILL to the whole group, no clean-up (stop() is the SIGTERM one)
        assert not server.running
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/health", timeout=5)
        server.start()

        assert server.url == url
        model = get(server, f"{API}/registered-models/get", name=unique_name)["registered_model"]
        assert model["aliases"] == [{"alias": "champion", "version": "1"}]
        assert model["latest_versions"][0]["version"] == "1"
        # The webhook and its secret are still readable: the encryption key was the same for both starts.
        (webhook,) = client.list_webhooks()
        assert webhook.name == unique_name
        client.set_registered_model_alias(unique_name, "challenger", "1")
        assert wait_for(lambda: len(hooks.deliveries) == 2, timeout=30), hooks.deliveries
        aliases = [verify(delivery, secret)["data"]["alias"] for delivery in hooks.deliveries]
        assert aliases == ["champion", "challenger"]
    assert not server.running
