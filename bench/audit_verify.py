"""How long ``audit_verify`` takes over a trail of a million events, and how much memory it needs.

    .venv/bin/python bench/audit_verify.py                     # 1,000,000 events, 3 runs
    .venv/bin/python bench/audit_verify.py --events 200000 --repeat 1

On PostgreSQL, in a database of its own (``signet_bench_audit_1m``, migrated once and kept). The first
run builds the trail: 20 projects and 50 people made through the services (so their events are real),
then the rest of the events chained with ``apps.audit.chain.compute_hash`` exactly as the writer chains
them, shaped like the registry's (an actor, a project, a model version as target, a few changed fields),
and loaded with COPY under the chain lock, head row moved along. Later runs reuse it. Each run starts
``manage.py audit_verify`` as a process of its own and reports its wall time and peak RSS
(``getrusage`` of the child), so the figure is the command's, not this script's.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import signet_db  # noqa: E402 - after the path: bench/ is not a package

DATABASE = "signet_bench_audit_1m"
COPY_BATCH = 50_000
ACTIONS = (
    "registry.model_version.created",
    "registry.model_version.updated",
    "registry.model_card.updated",
    "registry.model_version.submitted",
    "workflows.review.decided",
    "accounts.sign_in.succeeded",
)


def _event(
    rng: random.Random, seq: int, moment: datetime, people: list[Any], projects: list[Any], roles: dict[int, Any]
) -> dict[str, Any]:
    """The chained fields of one made-up event, shaped like the registry's."""
    person = people[rng.randrange(len(people))]
    project = projects[rng.randrange(len(projects))]
    version = rng.randrange(1, 100_001)
    return {
        "seq": seq,
        "occurred_at": moment,
        "actor_id": person.pk,
        "actor_name": person.username,
        "actor_roles": roles[person.pk],
        "auth_method": "token",
        "request_id": f"{rng.getrandbits(64):016x}",
        "ip": "10.0.0.7",
        "project_pk": project.pk,
        "project_slug": project.slug,
        "target_type": "registry.modelversion",
        "target_id": str(version),
        "target_repr": f"model-{version // 50:04d} v{version % 50 + 1}",
        "action": ACTIONS[rng.randrange(len(ACTIONS))],
        "changes": {
            "status": {"before": "draft", "after": "in_review"},
            "number": {"before": None, "after": 3},
        },
        "data": {"source": f"models:/m-{version:08x}", "i": seq},
    }


def build(total: int) -> None:
    """Make the trail ``total`` events long (it only ever grows: the trail refuses DELETE)."""
    from django.db import connection, transaction  # noqa: PLC0415 - after django.setup()

    from apps.accounts.choices import TeamFunction  # noqa: PLC0415 - same
    from apps.audit import selectors  # noqa: PLC0415 - same
    from apps.audit.chain import CHAINED_FIELDS, compute_hash  # noqa: PLC0415 - same
    from apps.audit.services import actor_roles, audit_chain_lock  # noqa: PLC0415 - same
    from tests.factories import make_project, make_user  # noqa: PLC0415 - same

    head = selectors.audit_head()
    if head is None or head["seq"] < 200:
        people = [make_user(f"bench-{i:02d}", TeamFunction.DATA_SCIENCE) for i in range(50)]
        projects = [make_project(people[i], name=f"Bench project {i:02d}") for i in range(20)]
    else:
        from apps.accounts.models import User  # noqa: PLC0415 - same
        from apps.projects.models import Project  # noqa: PLC0415 - same

        people = list(User.objects.filter(username__startswith="bench-").order_by("username"))
        projects = list(Project.objects.filter(name__startswith="Bench project").order_by("name"))
    roles = {person.pk: actor_roles(person) for person in people}
    rng = random.Random(13)  # noqa: S311 - made-up data, the same every time
    columns = (*CHAINED_FIELDS, "prev_hash", "hash")
    started = time.perf_counter()
    with transaction.atomic():
        audit_chain_lock()
        head = selectors.audit_head()
        assert head is not None
        seq, prev = head["seq"], head["hash"]
        if seq >= total:
            return
        print(f"building the trail: {seq:,} events → {total:,}", flush=True)
        moment = datetime(2025, 1, 1, tzinfo=UTC)
        while seq < total:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for _ in range(min(COPY_BATCH, total - seq)):
                seq += 1
                moment += timedelta(microseconds=rng.randrange(1, 60_000_000))
                fields = _event(rng, seq, moment, people, projects, roles)
                digest = compute_hash(prev, fields)
                row = dict(fields, occurred_at=moment.isoformat(), prev_hash=prev, hash=digest)
                for name in ("actor_roles", "changes", "data"):
                    row[name] = json.dumps(row[name], ensure_ascii=False)
                writer.writerow([row[name] for name in columns])
                prev = digest
            buffer.seek(0)
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(
                    f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer
                )
            print(f"  {seq:,} events ({time.perf_counter() - started:.0f} s)", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditchainhead SET seq = %s, hash = %s WHERE id = 1", [seq, prev])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def _tree_rss(process: Any) -> int:
    """RSS of a process and its children (the workers of a walk in stretches), in bytes."""
    import psutil  # noqa: PLC0415 - only the measuring needs it

    total = 0
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


def timed_verify(env: dict[str, str], batch_size: int | None, workers: int) -> tuple[float, float, str]:
    """Run ``manage.py audit_verify`` once; return (seconds, peak RSS in MiB of it and its workers, its last line)."""
    import psutil  # noqa: PLC0415 - only the measuring needs it

    command = [str(signet_db.MAIN_PYTHON), str(signet_db.REPO / "manage.py"), "audit_verify", "--workers", str(workers)]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    started = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 - our own fixed command
        command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    watched, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, _tree_rss(watched))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    assert child.stdout is not None
    output = child.stdout.read().strip().splitlines()[-1]
    if child.returncode != 0:
        raise SystemExit(f"audit_verify failed ({child.returncode}): {output}")
    return elapsed, peak / 2**20, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="audit_verify --batch-size (default its own)")
    parser.add_argument("--workers", default="1,2", help="audit_verify --workers: each of these, interleaved")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="signet-bench-audit-"))
    env = signet_db.signet_env(DATABASE, var_dir, redis_url=args.redis_url, cache_url=args.cache_url)
    if signet_db.ensure_template(DATABASE, env):
        print(f"migrated {DATABASE}")
    os.environ.update(env)

    import django  # noqa: PLC0415 - Django starts after the environment above is set

    django.setup()
    build(args.events)
    from django.db import connections  # noqa: PLC0415 - after django.setup()

    connections.close_all()
    counts = [int(n) for n in args.workers.split(",")]
    times: dict[int, list[float]] = {n: [] for n in counts}
    peaks: dict[int, list[float]] = {n: [] for n in counts}
    for run in range(args.repeat):
        for workers in counts:
            elapsed, peak, output = timed_verify(env, args.batch_size, workers)
            times[workers].append(elapsed)
            peaks[workers].append(peak)
            print(
                f"  run {run + 1}/{args.repeat}, {workers} worker(s): {elapsed:6.1f} s,"
                f" peak RSS {peak:6.0f} MiB — {output}",
                flush=True,
            )
    print(f"\naudit_verify over {args.events:,} events (load {os.getloadavg()[0]:.1f}):")
    for workers in counts:
        print(
            f"  --workers {workers}: median {statistics.median(times[workers]):.1f} s"
            f" (fastest {min(times[workers]):.1f}), peak RSS {max(peaks[workers]):.0f} MiB"
        )


if __name__ == "__main__":
    main()
