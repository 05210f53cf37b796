"""A real MLflow tracking server for the MLflow bridge's tests and the bench (issue #12).

``mlflow_server`` starts ``mlflow server`` from ``.venv-mlflow`` (``make mlflow-server-env``; a venv
of its own, README "Dependencies") on a SQL store of its own (sqlite in a folder of the test's, or
the ``backend_uri`` given, such as PostgreSQL for the bench) with the artifact proxy on, and yields
an ``MlflowServer`` that the test may ``stop`` (or ``kill``) and ``start`` again on the same port,
store and webhook encryption key, as an outage would. docs/mlflow-bridge-research.md §1 and §3 say
why each setting is there.

No Django here: the bench imports this module too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_VENV = ROOT / ".venv-mlflow"
MLFLOW = MLFLOW_VENV / "bin" / "mlflow"

# Inherited settings that would change what the server does or where it connects: every MLFLOW_*
# (a tracking URI, an auth config) and the proxies (webhook deliveries ignore them anyway).
_PROXIES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
_PYTHON = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}  # the server's venv is not the tests' one


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(encryption_key: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: this process's, less MLflow settings, proxies and venv, plus the tests'."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("MLFLOW_") and name.lower() not in _PROXIES and name not in _PYTHON
    }
    return {
        **inherited,
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",  # the receivers are on 127.0.0.1
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",  # and plain http
        # Fixed for the server's life, restarts included: without it every process draws its own
        # key, and the webhook secrets stored before a restart can no longer be decrypted.
        "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": encryption_key,
        "MLFLOW_WEBHOOK_CACHE_TTL": "0",  # a webhook fires for the very next event, not up to 60 s later
        "MLFLOW_DISABLE_TELEMETRY": "true",  # no internet
        # The job runner (GenAI evaluations, a huey consumer per server) is not what the bridge
        # uses, and it would leave a folder in /dev/shm behind for every start.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        **(env or {}),
    }


def sqlalchemy_uri(database_url: str) -> str:
    """A PostgreSQL URL as SQLAlchemy must have it for the driver .venv-mlflow holds (psycopg2).

    SQLAlchemy 2.1 reads a plain ``postgresql://`` as psycopg 3, which is not installed; Signet's
    own ``postgres://`` form it does not know at all.
    """
    scheme, sep, rest = database_url.partition("://")
    return f"postgresql+psycopg2://{rest}" if sep and scheme in ("postgres", "postgresql") else database_url


class MlflowServer:
    """One ``mlflow server`` process group on a fixed port and store; ``start``/``stop`` at will."""

    def __init__(
        self,
        directory: Path,
        *,
        backend_uri: str | None = None,
        port: int | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
        timeout: float = 90,
    ) -> None:
        if not MLFLOW.exists():
            raise RuntimeError(f"{MLFLOW} is missing: run `make mlflow-server-env` (README, Dependencies)")
        self.directory = directory
        self.backend_uri = sqlalchemy_uri(backend_uri) if backend_uri else f"sqlite:///{directory / 'mlflow.db'}"
        self.artifacts_dir = directory / "artifacts"
        self.log_path = directory / "mlflow-server.log"
        self.port = port or free_port()
        self.workers = workers
        self.timeout = timeout
        self.env = server_environment(Fernet.generate_key().decode(), env)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        return [
            str(MLFLOW), "server", "--backend-store-uri", self.backend_uri,
            "--artifacts-destination", str(self.artifacts_dir), "--serve-artifacts",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
        ]  # fmt: skip

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:  # noqa: S310 - our own server
                return bool(response.status == 200)
        except OSError:
            return False

    def start(self) -> None:
        """Start the server (again) and wait until ``/health`` answers; its log is appended to ``log_path``."""
        if self.process is not None:
            raise RuntimeError("the MLflow server is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            # A session of its own: `mlflow server` runs uvicorn (and its workers) as children, and
            # stopping means signalling the whole group.
            self.process = subprocess.Popen(
                self.command, cwd=self.directory, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + self.timeout
        while not self.healthy():
            exited = self.process.poll() is not None
            if exited or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace")[-4000:]
                self.kill()
                why = "exited" if exited else f"did not answer /health within {self.timeout} s"
                raise RuntimeError(f"the MLflow server {why}:\n{tail}")
            time.sleep(0.1)

    def stop(self, timeout: float = 20) -> None:
        """Stop the server as an operator would (SIGTERM to its group), SIGKILL whatever is left after ``timeout``."""
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Stop the server at once, as a crash would: SIGKILL to its whole group, no clean-up."""
        self._signal(signal.SIGKILL, 10)

    def _signal(self, signum: int, timeout: float) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the group is already gone
            os.killpg(process.pid, signum)
        with contextlib.suppress(subprocess.TimeoutExpired):  # then SIGKILL, below
            process.wait(timeout=timeout)
        # The group may outlive its leader (a uvicorn worker still shutting down): kill what is left.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@contextmanager
def mlflow_server(
    tmp_dir: Path,
    *,
    backend_uri: str | None = None,
    port: int | None = None,
    workers: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[MlflowServer]:
    """Run an MLflow server with its store and artifacts in ``tmp_dir``; stop its process group afterwards."""
    server = MlflowServer(tmp_dir, backend_uri=backend_uri, port=port, workers=workers, env=env)
    server.start()
    try:
        yield server
    finally:
        server.stop()
