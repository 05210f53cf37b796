"""``make run``'s launcher on the embedded default: SQLite, filesystem broker, worker and beat.

Runs the real launcher in a scratch folder, checks the portal answers and a task goes through the
filesystem broker to the worker, then sends Ctrl-C (SIGINT) and checks every process has stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.workers import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _embedded_env(var_dir: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(DEBUG="true", SIGNET_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="portal.settings")
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a loopback URL of our own
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def _verified_events(database: Path) -> int:
    """How many ``audit.chain.verified`` events the launcher's database holds (read-only)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
        row = db.execute("SELECT count(*) FROM audit_auditevent WHERE action = 'audit.chain.verified'").fetchone()
    return int(row[0])


@pytest.mark.worker
def test_the_launcher_serves_runs_tasks_and_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    env = _embedded_env(tmp_path / "var")
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_demo")
    port = _free_port()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "portal.devrun"],
        cwd=ROOT,
        env=dict(env, PORT=str(port)),
        stdout=(tmp_path / "run.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        ready = wait_for(
            lambda: _get(f"http://127.0.0.1:{port}/readyz")[0] == 200 or launcher.poll() is not None, timeout=60
        )
        assert launcher.poll() is None, (tmp_path / "run.log").read_text()
        assert ready, "the portal did not become ready"
        status, body = _get(f"http://127.0.0.1:{port}/accounts/sign-in/")
        assert status == 200
        assert "Sign in to Signet" in body
        children = psutil.Process(launcher.pid).children(recursive=True)
        assert len(children) >= 2

        _manage(
            env, "shell", "-v0", "-c", "from apps.audit.tasks import audit_verify_chain; audit_verify_chain.delay()"
        )
        # Read the portal's SQLite file directly: a `manage.py shell` per poll costs seconds each.
        database = tmp_path / "var" / "signet.sqlite3"
        assert wait_for(lambda: _verified_events(database) == 1, timeout=60), (tmp_path / "run.log").read_text()

        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(timeout=40) == 0
        _gone, alive = psutil.wait_procs(children, timeout=20)
        assert alive == [], f"still running after Ctrl-C: {alive}"
    finally:
        if launcher.poll() is None:
            # A failed assertion must not leave the web server and worker running after the test.
            for process in psutil.Process(launcher.pid).children(recursive=True):
                process.kill()
            launcher.kill()
    assert "audit chain intact" in _manage(env, "audit_verify")
