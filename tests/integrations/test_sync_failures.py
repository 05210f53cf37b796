"""MLflow failing in the middle of a reconcile: nothing half-written, nothing marked gone, the next pass completes.

A small HTTP proxy in front of a real MLflow server of the test's own passes requests through, and
after a number of version-search pages either answers 500 (as a broken server would) or, for the
outage, stops the real server and drops the connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from mlflow.tracking import MlflowClient as MlflowLibClient

from apps.integrations.models import MlflowModel, MlflowVersion
from apps.integrations.services.sync import reconcile
from tests.conftest import Org
from tests.integrations.factories import make_connection
from tests.mlflow_server import MlflowServer, mlflow_server

pytestmark = pytest.mark.django_db

MODELS, VERSIONS, PAGE = 6, 3, 4  # 18 versions in pages of 4: five version pages


class Proxy:
    """Forwards to ``upstream``; the ``fail_after``-th version-search page and later get ``mode``."""

    def __init__(self, upstream: MlflowServer) -> None:
        self.upstream = upstream
        self.fail_after: int | None = None
        self.mode = "500"
        self.version_pages = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._forward()

            def do_POST(self) -> None:
                self._forward()

            def _forward(self) -> None:
                if "model-versions/search" in self.path:
                    proxy.version_pages += 1
                    if proxy.fail_after is not None and proxy.version_pages > proxy.fail_after:
                        if proxy.mode == "500":
                            body = b'{"error_code": "INTERNAL_ERROR", "message": "database is locked"}'
                            self.send_response(500)
                            self.send_header("Content-Type", "application/json")
                            self.send_header("Content-Length", str(len(body)))
                            self.end_headers()
                            self.wfile.write(body)
                            return
                        proxy.upstream.stop()  # the server goes away, for real
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                try:
                    answer = requests.request(
                        self.command, f"{proxy.upstream.url}{self.path}", data=data,
                        headers={"Content-Type": self.headers.get("Content-Type", "application/json")}, timeout=30,
                    )  # fmt: skip
                except requests.ConnectionError:
                    self.close_connection = True  # no answer at all, as from a server that is gone
                    return
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def own_mlflow(tmp_path: Path) -> Iterator[MlflowServer]:
    with mlflow_server(tmp_path / "mlflow") as server:
        client = MlflowLibClient(tracking_uri=server.url, registry_uri=server.url)
        for m in range(MODELS):
            client.create_registered_model(f"model-{m}")
            for _ in range(VERSIONS):
                client.create_model_version(f"model-{m}", source=f"s3://bucket/m{m}", run_id=None)
        yield server


@pytest.fixture
def proxy(own_mlflow: MlflowServer) -> Iterator[Proxy]:
    front = Proxy(own_mlflow)
    yield front
    front.close()


def _assert_whole(connection_id: int) -> int:
    """Every mirrored model has all its versions and nothing is marked gone; return how many are mirrored."""
    models = MlflowModel.objects.filter(connection_id=connection_id)
    for model in models:
        assert model.versions.count() == VERSIONS, model.name
    assert not models.filter(deleted_at__isnull=False).exists()
    assert not MlflowVersion.objects.filter(deleted_at__isnull=False).exists()
    return models.count()


@pytest.mark.parametrize("mode", ["500", "outage"])
def test_a_failure_mid_pass_leaves_whole_models_only_and_the_next_pass_completes(
    mode: str, org: Org, proxy: Proxy, own_mlflow: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection, _secret = make_connection(monkeypatch, org.administrator, proxy.url)
    reconcile(connection, page_size=PAGE)  # a first complete pass: the mirror knows all models
    assert _assert_whole(connection.pk) == MODELS
    client = MlflowLibClient(tracking_uri=own_mlflow.url, registry_uri=own_mlflow.url)
    for m in range(MODELS):  # every model gets a new version: the next pass has work on every page
        client.create_model_version(f"model-{m}", source="s3://bucket/new", run_id=None)
    client.delete_registered_model("model-5")  # gone, but only a complete pass may say so

    proxy.version_pages, proxy.fail_after, proxy.mode = 0, 2, mode
    result = reconcile(connection, page_size=PAGE)

    assert result["status"] == "failed"
    connection.refresh_from_db()
    assert connection.reconcile_status == "failed"
    assert connection.reconcile_message.startswith("Stopped after")
    assert ("500" in connection.reconcile_message) == (mode == "500")
    if mode == "outage":
        assert "cannot be reached" in connection.reconcile_message or "did not answer" in connection.reconcile_message
    counts = {m.name: m.versions.count() for m in MlflowModel.objects.filter(connection=connection)}
    grown = [name for name, n in counts.items() if n == VERSIONS + 1]
    assert grown, counts
    assert len(grown) < MODELS - 1, counts  # some models written whole, the rest untouched
    assert set(counts.values()) <= {VERSIONS, VERSIONS + 1}
    assert not MlflowModel.objects.filter(deleted_at__isnull=False).exists()

    if mode == "outage":
        own_mlflow.start()
    proxy.fail_after = None
    resumed = reconcile(connection, page_size=PAGE)

    assert resumed["status"] == "succeeded", resumed
    assert resumed["versions_created"] == MODELS - 1 - len(grown)  # the rest, not again what was written
    counts = {m.name: m.versions.count() for m in MlflowModel.objects.filter(connection=connection)}
    assert all(n == VERSIONS + 1 for name, n in counts.items() if name != "model-5")
    assert MlflowModel.objects.get(connection=connection, name="model-5").deleted_at is not None
