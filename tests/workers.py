"""A real Celery worker process for tests about tasks, on the test database and Redis."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    db = connection.settings_dict
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        SIGNET_TEST_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE,  # the periodic queue's name follows from it
        **(env or {}),
    )


@contextmanager
def _process(
    command: list[str], log_path: Path, env: dict[str, str], ready: bytes, timeout: float
) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while ready not in log_path.read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[3:5]} did not start:\n" + log_path.read_text(errors="replace"))
                time.sleep(0.2)
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started (warm shutdown), and kill it if it does not stop within 20 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and every process it started: no chance to clean up or to reject its messages."""
    worker = psutil.Process(process.pid)
    for each in [*worker.children(recursive=True), worker]:
        with contextlib.suppress(psutil.NoSuchProcess):
            each.kill()
    process.wait()


@contextmanager
def celery_worker(
    log_path: Path,
    *,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    pool: str = "solo",
    concurrency: int = 1,
    name: str = "test",
    queues: str = "default,periodic",
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``celery worker`` on this run's queues and the test database; stop it afterwards.

    ``queues`` names which of this run's queues it consumes ("default", "periodic", or both, as
    ``make run``'s single worker did); ``env`` adds settings for the worker process (environment
    variables the settings read).
    """
    names = {"default": settings.CELERY_TASK_DEFAULT_QUEUE, "periodic": settings.SIGNET_PERIODIC_QUEUE}
    queues = ",".join(names[queue] for queue in queues.split(","))
    command = [
        sys.executable, "-m", "celery", "-A", "portal", "worker", f"--pool={pool}", f"--concurrency={concurrency}",
        "--loglevel=INFO", "-Q", queues, "--without-mingle", "--without-gossip", "--without-heartbeat",
        "-n", f"{name}-{os.getpid()}@%h",
    ]  # fmt: skip
    with _process(command, log_path, _environment(env), b" ready.", timeout) as process:
        yield process


@contextmanager
def celery_beat(log_path: Path, *, env: dict[str, str] | None = None, timeout: float = 60) -> Iterator[None]:
    """Start ``celery beat`` with the settings' schedule (its file beside the log); stop it afterwards."""
    schedule = log_path.with_suffix(".schedule")
    command = [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO", "-s", str(schedule)]
    with _process(command, log_path, _environment(env), b"beat: Starting", timeout):
        yield


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
