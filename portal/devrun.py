"""Start the development portal: web server, Celery worker and beat; Ctrl-C stops all of them.

``make run`` calls ``python -m portal.devrun`` after migrating and seeding. Each child runs in its own
process group, so one Ctrl-C reaches each exactly once through this supervisor.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

STOP_GRACE_SECONDS = 15


def _commands(host: str, port: str) -> list[list[str]]:
    """The web server, a worker for validation runs, and a small worker with beat for periodic work.

    As in production (README): the periodic queue has a worker of its own, so the sweep that re-sends
    lost runs never waits behind a long run on the default queue.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.conf import settings  # noqa: PLC0415 - once the settings are named; needs no django.setup()

    python = sys.executable
    celery = [python, "-m", "celery", "-A", "portal", "worker", "--loglevel=WARNING"]
    return [
        [*celery, "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--concurrency=2", "-n", "runs@%h"],
        [*celery, "-Q", settings.SIGNET_PERIODIC_QUEUE, "--concurrency=2", "--beat", "-n", "periodic@%h"],
        [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
    ]  # fmt: skip


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    # Fixed argument lists of our own, no shell: nothing untrusted reaches the command line.
    children = [subprocess.Popen(cmd, start_new_session=True) for cmd in _commands(host, port)]  # noqa: S603
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    print("\nStopping Signet (web server, worker, beat) ...", flush=True)
    for child in children:
        if child.poll() is None:
            child.terminate()  # the worker then stops its pool and beat itself (warm shutdown)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
