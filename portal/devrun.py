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
    python = sys.executable
    return [
        [python, "-m", "celery", "-A", "portal", "worker", "--beat", "--loglevel=WARNING", "--concurrency=2"],
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
