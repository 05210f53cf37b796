"""How long N audit events take one by one (audit_record) and in bulk (audit_record_many).

    .venv/bin/python bench/audit_bulk.py                    # 10,000 events, 3 interleaved runs
    .venv/bin/python bench/audit_bulk.py --events 2000 --repeat 5

On PostgreSQL, in a database of its own (``signet_bench_audit``, migrated once and kept). Both sides
write the same events, shaped like the MLflow reconcile's (the bridge's service user as actor, a
target, a project, a few fields of data), in ONE transaction each, as the reconcile does, which is
then rolled back: the trail refuses DELETE, so this is how the database stays as it was. The chain is
verified inside each transaction before the rollback.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import signet_db  # noqa: E402 - after the path: bench/ is not a package

DATABASE = "signet_bench_audit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="signet-bench-audit-"))
    env = signet_db.signet_env(DATABASE, var_dir, redis_url=args.redis_url, cache_url=args.cache_url)
    if signet_db.ensure_template(DATABASE, env):
        print(f"migrated {DATABASE}")
    os.environ.update(env)

    import django  # noqa: PLC0415 - Django starts after the environment above is set

    django.setup()
    from django.db import transaction  # noqa: PLC0415 - after django.setup()

    from apps.accounts.choices import TeamFunction  # noqa: PLC0415 - same
    from apps.audit import selectors  # noqa: PLC0415 - after django.setup()
    from apps.audit.actions import Action  # noqa: PLC0415 - after django.setup()
    from apps.audit.chain import verify  # noqa: PLC0415 - after django.setup()
    from apps.audit.services import AuditEntry, audit_record, audit_record_many  # noqa: PLC0415 - same
    from tests.factories import make_project, make_user  # noqa: PLC0415 - same

    def entries() -> list[AuditEntry]:
        actor = make_user("mlflow-bridge", TeamFunction.DATA_SCIENCE)
        project = make_project(actor, name="Bench project")
        return [
            AuditEntry(
                actor=actor,
                actor_name="mlflow:bench",
                action=Action.MLFLOW_CONNECTION_UPDATED,  # any catalogued action: the cost is the same
                target=project,
                project=project,
                data={"mlflow_model": f"model-{i // 50:04d}", "version": i % 50 + 1, "source": f"models:/m-{i:08x}"},
            )
            for i in range(args.events)
        ]

    def run(bulk: bool) -> float:
        with transaction.atomic():
            batch = entries()
            started = time.perf_counter()
            if bulk:
                audit_record_many(batch)
            else:
                for e in batch:
                    audit_record(
                        actor=e.actor,
                        actor_name=e.actor_name,
                        action=e.action,
                        target=e.target,
                        project=e.project,
                        data=e.data,
                    )
            elapsed = time.perf_counter() - started
            result = verify(selectors.audit_chain())
            assert result.ok, result.reason
            transaction.set_rollback(True)
        return elapsed

    times: dict[str, list[float]] = {"one by one": [], "bulk": []}
    for repeat in range(args.repeat):
        for name, measured in times.items():  # interleaved
            measured.append(run(bulk=name == "bulk"))
            print(f"  run {repeat + 1}/{args.repeat} {name:<10} {measured[-1]:7.2f} s", flush=True)
    one, many = statistics.median(times["one by one"]), statistics.median(times["bulk"])
    print(f"\n{args.events:,} events, median of {args.repeat} (min):")
    print(f"  audit_record one by one: {one:7.2f} s ({min(times['one by one']):.2f}), {args.events / one:,.0f}/s")
    print(f"  audit_record_many:       {many:7.2f} s ({min(times['bulk']):.2f}), {args.events / many:,.0f}/s")
    print(f"  ratio: {one / many:.1f}x")


if __name__ == "__main__":
    main()
