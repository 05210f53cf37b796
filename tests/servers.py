"""Real server processes for tests about concurrency and outages.

``portal_server`` runs Signet under gunicorn on the test database, ``PrivateRedis`` is a redis-server
of the test's own (never the shared one) that the test may kill, ``TcpProxy`` stands between a server
and PostgreSQL so the test can cut the database off, and ``Http`` is a small client with cookies.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from tests.workers import stop

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(predicate: Any, what: str, timeout: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n" + log.read_text(errors="replace")[-4000:])
        time.sleep(0.1)


def database_url(host: str | None = None, port: int | None = None) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{host or db['HOST']}:{port or db['PORT']}/{db['NAME']}"


@contextmanager
def portal_server(
    log_path: Path, *, env: dict[str, str] | None = None, workers: int = 1, threads: int = 8, timeout: float = 60
) -> Iterator[str]:
    """Run Signet under gunicorn on the test database; yield its base URL; stop it afterwards."""
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "SIGNET_TEST_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--timeout", "60", "--graceful-timeout", "5",
        "--error-logfile", "-", "--log-level", "info",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 - our own server
                return bool(response.status == 200)
        except OSError:
            return False

    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(healthy, "gunicorn", timeout, process, log_path)
            yield url
        finally:
            stop(process)


class PrivateRedis:
    """A redis-server on a free port of its own, without persistence; ``stop``/``start`` at will."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _wait(self._answers, "redis-server", 20, self.process, self.log_path)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextmanager
def private_redis(log_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(log_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class TcpProxy:
    """Forward 127.0.0.1:<port> to ``upstream``; ``cut`` drops every connection and refuses new ones."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open = threading.Event()
        self._open.set()
        self._closing = False
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()  # the database is "down": the connection is refused at once
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, server))
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _pipe(self, client: socket.socket, server: socket.socket) -> None:
        pair = {client: server, server: client}
        try:
            while True:
                readable, _, _ = select.select(list(pair), [], [], 0.5)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    pair[source].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in pair:
                with self._lock:
                    self._sockets.discard(sock)
                sock.close()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):  # already closed by the other side
                    sock.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._closing = True
        self.cut()
        self._listener.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Http:
    """One client of ``base``: its own cookies, CSRF token and optional bearer token; never follows redirects."""

    def __init__(
        self, base: str, *, token: str | None = None, headers: dict[str, str] | None = None, timeout: float = 60
    ) -> None:
        self.base, self.token, self.timeout = base, token, timeout
        self.headers = headers or {}
        self.cookies = CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect)

    def _csrf(self) -> str:
        return next((c.value or "" for c in self.cookies if c.name == settings.CSRF_COOKIE_NAME), "")

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> Response:
        headers = {"Accept": "application/json" if path.startswith("/api/") else "text/html", **self.headers}
        data: bytes | None = None
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if method not in ("GET", "HEAD"):
            headers["X-CSRFToken"] = self._csrf()
        if json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif files is not None:
            boundary = uuid.uuid4().hex
            parts = [
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n".encode()
                + content
                + b"\r\n"
                for name, (filename, content) in files.items()
            ]
            data = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                return Response(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as answer:
            return Response(answer.code, dict(answer.headers), answer.read())

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def sign_in(self, username: str, password: str) -> Response:
        self.get("/accounts/sign-in/")  # sets the CSRF cookie
        return self.request("POST", "/accounts/sign-in/", form={"username": username, "password": password})
