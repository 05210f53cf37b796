"""The worker's half of the sandbox: start the check process, feed it, watch it, kill it.

The child's errors go to a file (a full pipe would block it), and a timer kills it at the time
limit even when it hangs without printing anything; the heartbeat kills it once another worker
has taken the run over, so a stalled worker that lost its claim does not compute it twice. The way
the child ended becomes an Outcome: its result, an unusable input, or a crash worth retrying.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.validation.heartbeat import Heartbeat

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[3]
PROGRESS_EVERY_SECONDS = 0.3  # relay progress at most this often: each relay is a database write


@dataclass
class Outcome:
    """How the check process ended: ``result`` (data holds it), ``unusable`` input, or ``crash``."""

    kind: str
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    retry: bool = False


def child_environment() -> dict[str, str]:
    """What the check process needs, and nothing else: no secret key, no database or broker URL."""
    kept = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if name in os.environ}
    return {
        **kept,
        "PYTHONPATH": str(ROOT),
        "ARROW_DEFAULT_MEMORY_POOL": "system",  # Arrow then honours RLIMIT_AS
        "MALLOC_ARENA_MAX": "2",  # glibc reserves an arena per thread otherwise, eating the address space
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }


def run_in_sandbox(
    job: dict[str, Any],
    *,
    on_progress: Callable[[int, str], None],
    heartbeat: Heartbeat | None = None,
    label: str = "validation run",
) -> Outcome:
    """Run ``job`` in the check process and return how it ended.

    ``job`` is what sandbox/child.py reads (its ``cpu_seconds`` is also the wall-clock limit here,
    its ``memory_mb`` the memory limit named in the reason). ``on_progress(percent, step)`` is
    called at most every PROGRESS_EVERY_SECONDS while the child works. ``label`` names the run in logs.
    """
    limit = job["cpu_seconds"]
    final: dict[str, Any] | None = None
    timed_out = threading.Event()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(  # noqa: S603 - our own module, arguments fixed
            [sys.executable, "-m", "apps.validation.sandbox.child"],
            cwd=ROOT,
            env=child_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )

        def stop() -> None:
            timed_out.set()
            process.kill()

        timer = threading.Timer(limit, stop)
        timer.start()
        if heartbeat is not None:
            heartbeat.when_lost(process.kill)
        try:
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write(json.dumps(job))
            process.stdin.close()
            last_write = 0.0
            for line in process.stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if "progress" not in message:
                    final = message
                elif time.monotonic() - last_write > PROGRESS_EVERY_SECONDS:
                    on_progress(max(0, min(99, int(message["progress"]))), str(message.get("step", ""))[:200])
                    last_write = time.monotonic()
            process.wait()
        except BrokenPipeError:  # the child died before reading its job
            process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:  # we are leaving early (a soft time limit, a database error)
                process.kill()
                process.wait()
        errors.seek(0)
        stderr = errors.read()[-20_000:]
    if final is not None and not timed_out.is_set():
        if "result" in final:
            return Outcome("result", data=final)
        return Outcome("unusable", final.get("input_error") or final.get("spec_error") or "The input is unusable.")
    if timed_out.is_set() or process.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return Outcome("crash", f"The checks took longer than the {limit} s a run may use.", retry=True)
    if "MemoryError" in stderr or "bad_alloc" in stderr or "Cannot allocate memory" in stderr:
        return Outcome(
            "crash", f"Reading the data needed more than the {job['memory_mb']} MB a run may use.", retry=True
        )
    logger.warning("%s: check process ended with %s: %s", label, process.returncode, stderr[-2000:])
    return Outcome("crash", f"The check process stopped unexpectedly (exit status {process.returncode}).", retry=True)
