"""Run the check engine in a child process with limits on memory and CPU time.

The worker never parses an uploaded file itself: it starts ``python -m apps.validation.sandbox.child``
(sandbox/parent.py), sends the job as JSON on stdin, and reads JSON lines back: ``{"progress": p,
"step": s}`` while it works, then one of ``{"result": ..., "curves": ...}``, ``{"input_error": msg}``,
``{"spec_error": msg}``.
A hostile file that makes pyarrow allocate without bound, loop, or crash ends this process, not
the worker; the worker turns the way it ended into a reason a person can read.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

THREADS = 2  # Arrow's pools; each thread reserves address space that counts against RLIMIT_AS


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # CPU time adds up over the threads; the worker's timer enforces the wall-clock limit itself.
    cpu = int(cpu_seconds * (THREADS + 1)) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, allow_nan=False) + "\n")
    sys.stdout.flush()


def main() -> int:
    job = json.loads(sys.stdin.read())
    _limit(int(job["memory_mb"]), int(job["cpu_seconds"]))
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415 - after the limits

    pa.set_cpu_count(THREADS)
    pa.set_io_thread_count(THREADS)
    from apps.validation import curves  # noqa: PLC0415 - after the limits: their imports count against them
    from apps.validation.engine import (  # noqa: PLC0415
        Artifact,
        Documentation,
        InputError,
        SpecError,
        parse_spec,
        run_suite,
    )

    try:
        spec = parse_spec(job["spec"])
    except SpecError as exc:
        _emit({"spec_error": str(exc)})
        return 0
    documentation = Documentation(**job["documentation"]) if job.get("documentation") else None
    artifact = None
    if job.get("artifact"):
        path = job["artifact"]["path"]
        artifact = Artifact(path=Path(path) if path else None, expected_sha256=job["artifact"]["expected_sha256"])
    try:
        result = run_suite(
            Path(job["reference"]),
            Path(job["current"]),
            spec,
            progress=lambda percent, step: _emit({"progress": int(percent), "step": str(step)[:200]}),
            documentation=documentation,
            artifact=artifact,
        )
        points = curves.roc_points(Path(job["current"]), spec)
    except InputError as exc:
        _emit({"input_error": str(exc)})
        return 0
    except MemoryError:
        _emit({"input_error": f"The data needs more than the {job['memory_mb']} MB of memory a run may use."})
        return 0
    _emit({"result": result.to_dict(), "curves": {"roc": points} if points else {}})
    return 0


if __name__ == "__main__":
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")  # honours the address-space limit
    sys.exit(main())
