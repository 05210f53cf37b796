"""How many audited writes a second eight writers get through the one chain lock, and what each costs.

    .venv/bin/python bench/audit_writes.py                  # 8 threads, 20 s, 3 interleaved runs
    .venv/bin/python bench/audit_writes.py --threads 4 --seconds 10

On PostgreSQL, on a fresh copy of a migrated database (``signet_bench_audit_writes``, from the template
``signet_bench_audit``), production settings. Each thread writes, in a transaction of its own that
commits, what a governed change writes: a row of its own (a model card revision is not needed: the
write is the event's transaction) and one ``audit_record`` with an actor (a member of a team), a
project, a target and a few changed fields. It prints the events per second, the SQL statements one
write sends (and how many of them run while the chain lock is held), and checks the chain after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import signet_db  # noqa: E402 - after the path: bench/ is not a package

TEMPLATE = "signet_bench_audit"
DATABASE = "signet_bench_audit_writes"


def main() -> None:  # noqa: PLR0915 - one script, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="signet-bench-audit-"))
    env = signet_db.signet_env(TEMPLATE, var_dir, redis_url=args.redis_url, cache_url=args.cache_url)
    if signet_db.ensure_template(TEMPLATE, env):
        print(f"migrated {TEMPLATE}")
    signet_db.fresh_copy(TEMPLATE, DATABASE)
    env["DATABASE_URL"] = signet_db.database_url(DATABASE)
    os.environ.update(env)

    import django  # noqa: PLC0415 - Django starts after the environment above is set

    django.setup()
    from django.db import connection, connections, transaction  # noqa: PLC0415 - after django.setup()
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415 - same

    from apps.accounts.choices import TeamFunction  # noqa: PLC0415 - same
    from apps.audit import selectors  # noqa: PLC0415 - same
    from apps.audit.actions import Action  # noqa: PLC0415 - same
    from apps.audit.chain import verify  # noqa: PLC0415 - same
    from apps.audit.services import audit_record  # noqa: PLC0415 - same
    from tests.factories import make_project, make_user  # noqa: PLC0415 - same

    people = [make_user(f"writer-{n}", TeamFunction.DATA_SCIENCE) for n in range(args.threads)]
    projects = [make_project(person, name=f"Writes {n}") for n, person in enumerate(people)]

    def write(n: int, i: int) -> None:
        with transaction.atomic():
            audit_record(
                actor=people[n],
                action=Action.PROJECT_UPDATED,
                target=projects[n],
                project=projects[n],
                changes={"description": {"before": f"text {i - 1}", "after": f"text {i}"}},
                data={"thread": n, "i": i},
            )

    with CaptureQueriesContext(connection) as captured:
        write(0, 0)
    statements = [q["sql"] for q in captured]
    print(f"one audited write sends {len(statements)} statements:")
    for sql in statements:
        print(f"  {sql[:110]}")

    def run() -> float:
        stop = time.perf_counter() + args.seconds
        counts = [0] * args.threads
        start = threading.Barrier(args.threads + 1)

        def writer(n: int) -> None:
            try:
                start.wait()
                while time.perf_counter() < stop:
                    write(n, counts[n])
                    counts[n] += 1
            finally:
                connections.close_all()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(args.threads)]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        return sum(counts) / (time.perf_counter() - began)

    rates = []
    for repeat in range(args.repeat):
        rates.append(run())
        print(f"  run {repeat + 1}/{args.repeat}: {rates[-1]:7.1f} audited writes/s", flush=True)
    result = verify(selectors.audit_chain())
    assert result.ok, result.reason
    print(
        f"\n{args.threads} writers: median {statistics.median(rates):.1f} writes/s (best {max(rates):.1f}),"
        f" {result.checked:,} events, chain intact; load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
