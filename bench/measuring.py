"""How bench/run.py measures a contender: one process, timed and sampled from outside."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
# Not contenders: bench/signet_probe.py does what run_checks does, timing start-up apart from read + compute +
# write; run beside each Signet contender for its compute-only time. Its name is the contender's + PROBE.
PROBE = "/probe"
SAMPLE_SECONDS = 0.02
QUIET_CPU_PERCENT = 15.0
MB = 1024 * 1024


@dataclass
class Measurement:
    """One run of one contender."""

    wall_s: float
    cpu_s: float  # user + system CPU seconds of the process (and of children it waited for)
    peak_rss_mb: float
    tree_peak_mb: float
    returncode: int
    loadavg_before: float
    other_cpu_pct: float  # share of the machine's CPU used by other processes during the run
    phases: dict[str, float] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Contender:
    """How to start one contender and how to read what it wrote."""

    name: str
    command: Callable[[Path], list[str]]  # given a scratch folder
    ok_codes: tuple[int, ...] = (0,)
    env: dict[str, str] = field(default_factory=dict)
    read_detail: Callable[[Path], tuple[dict[str, float], dict[str, Any]]] | None = None


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self.stopped.is_set():
            total = 0
            try:
                for proc in [root, *root.children(recursive=True)]:
                    try:
                        total += proc.memory_info().rss
                    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                        continue
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                return
            self.peak = max(self.peak, total)
            self.stopped.wait(SAMPLE_SECONDS)


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent not idle, summed over its cores."""
    times = psutil.cpu_times()
    return float(sum(times)) - times.idle - getattr(times, "iowait", 0.0)


def wait_quiet(limit_s: float) -> float:
    """Wait (at most limit_s) until other work uses less than QUIET_CPU_PERCENT of the machine; seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        if psutil.cpu_percent(interval=1.0) < QUIET_CPU_PERCENT:
            break
    return time.perf_counter() - started


def measure(contender: Contender, scratch: Path, timeout: float) -> Measurement:
    """Start the contender in its own process; wall time, ru_maxrss (wait4) and sampled tree peak."""
    scratch.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **contender.env}
    load_before = os.getloadavg()[0]
    busy_before = _busy_seconds()
    with (scratch / "stdout").open("wb") as out, (scratch / "stderr").open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603  (our own fixed commands)
            contender.command(scratch), stdout=out, stderr=err, env=env, cwd=REPO
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        timer.cancel()
        sampler.stopped.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4; tell Popen
    cpu = usage.ru_utime + usage.ru_stime
    other = max(0.0, _busy_seconds() - busy_before - cpu) / (wall * (os.cpu_count() or 1))
    measurement = Measurement(
        wall_s=wall,
        cpu_s=cpu,
        peak_rss_mb=usage.ru_maxrss * 1024 / MB,  # Linux: kilobytes
        tree_peak_mb=sampler.peak / MB,
        returncode=proc.returncode,
        loadavg_before=load_before,
        other_cpu_pct=100.0 * other,
    )
    if proc.returncode not in contender.ok_codes:
        tail = (scratch / "stderr").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{contender.name} exited {proc.returncode}:\n{tail}")
    if contender.read_detail is not None:
        measurement.phases, measurement.detail = contender.read_detail(scratch)
    return measurement
