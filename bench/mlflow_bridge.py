"""Benchmark the MLflow bridge (#12) against paging MLflow's own search API, on one MLflow server.

    make install mlflow-server-env                              # .venv and .venv-mlflow
    .venv/bin/python bench/mlflow_bridge.py                     # 2,000 models x 50 versions, webhooks
    .venv/bin/python bench/mlflow_bridge.py --models 20 --versions 5 --repeat 3 --webhook-versions 10

One MLflow 3.17.2 server (``.venv-mlflow``, 2 workers) on PostgreSQL, database
``mlflow_bench_<models>x<versions>``, built once by bench/mlflow_build.py and reused while its marker
(the database's comment) matches. Then, interleaved, each in a process of its own (bench/measuring.py):

- (a) ``mlflow``: bench/mlflow_page.py pages registered-models/search and model-versions/search,
  1000 a page, the calls Signet's reconcile makes: the peer, MLflow's own speed;
- (b) ``signet-first``: Signet's first reconcile pass (bench/mlflow_bridge_signet.py) into an empty
  Signet (a fresh copy of a migrated template, database ``signet_bench_bridge``, with the projects
  the models' ``signet.project`` tags name and the connection, made before the clock starts);
- (c) ``signet-again``: a second pass, nothing changed in MLflow.

The passes are timed inside their processes (Django's start-up is not part of a pass: it runs in a
long-lived worker); the process wall time is reported beside. Goals: b <= 1.5 x a, c <= 1.2 x a.
Then (d), once: Signet under gunicorn with a Celery worker on that database, a webhook on the MLflow
server pointing at Signet's receiver, and ``--webhook-versions`` new versions created with the
mlflow client one at a time (of a new model, deleted afterwards so the data set stays as built);
for each, the time from ``create_model_version`` returning to the version being listed by Signet's
API (polled every 20 ms). Goal: p95 < 2 s.

Results: a table, the goals, the profile of Signet's passes (MLflow HTTP, SQL, broker, the rest; the
statements that took longest), and bench/results/mlflow-bridge-<UTC timestamp>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import psycopg2
import redis
import requests
import signet_db
from measuring import Contender, Measurement, measure
from psycopg2 import sql
from report import machine

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from tests.mlflow_server import MLFLOW_VENV, MlflowServer, free_port  # noqa: E402 - after the path

MAIN_PYTHON = REPO / ".venv" / "bin" / "python"
MLFLOW_PYTHON = MLFLOW_VENV / "bin" / "python"
SIGNET_TEMPLATE = "signet_bench_template"
SIGNET_DB = "signet_bench_bridge"
BUILDER_VERSION = 1  # bump when bench/mlflow_build.py writes other data
WEBHOOK_SECRET_ENV = "SIGNET_MLFLOW_BENCH_WEBHOOK_SECRET"  # noqa: S105 - the name of a variable
RECEIVER = "/api/v1/mlflow/{connection}/webhook/"
CONNECTION = "bench"
POLL_S = 0.02
WEBHOOK_MODEL_PREFIX = "signet-bench-webhook-"
ALL = ("mlflow", "signet-first", "signet-again")


# --- the MLflow side ---------------------------------------------------------------------------------
def mlflow_uri(database: str) -> str:
    return f"postgresql+psycopg2://{signet_db.PG['user']}@{signet_db.PG['host']}:{signet_db.PG['port']}/{database}"


def dataset_marker(args: argparse.Namespace) -> str:
    return (
        f"signet-bench mlflow data v{BUILDER_VERSION}: models={args.models} versions={args.versions} "
        f"projects={args.projects} tags=5"
    )


def ensure_dataset(args: argparse.Namespace, database: str) -> float | None:
    """Build the registry unless its database already says it holds this data set; seconds taken, or None."""
    marker = dataset_marker(args)
    conn = psycopg2.connect(dbname="postgres", **signet_db.PG)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [database]
            )
            row = cursor.fetchone()
            if row is not None and row[0] == marker and not args.rebuild:
                return None
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        print(f"building the MLflow registry in {database} ({args.build_method}) ...", flush=True)
        started = time.perf_counter()
        # Durability is not what is built: the builder's own sessions skip the wait for the disk.
        uri = mlflow_uri(database) + "?options=-csynchronous_commit%3Doff"
        command = [
            str(MLFLOW_PYTHON), str(BENCH / "mlflow_build.py"), "--db-uri", uri, "--models", str(args.models),
            "--versions", str(args.versions), "--projects", str(args.projects),
            "--workers", str(args.build_workers), "--method", args.build_method,
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "VIRTUAL_ENV", "PYTHON"))}
        subprocess.run(command, check=True, env={**env, "MLFLOW_DISABLE_TELEMETRY": "true"})  # noqa: S603
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("COMMENT ON DATABASE {} IS %s").format(sql.Identifier(database)), [marker])
        return time.perf_counter() - started
    finally:
        conn.close()


def vacuum_analyze(database: str) -> None:
    """Fresh planner statistics for the built tables, as autovacuum would give a registry of that age."""
    conn = psycopg2.connect(dbname=database, **signet_db.PG)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        conn.close()


def fernet_key(folder: Path) -> str:
    """The webhook secrets' encryption key of this data set's server, the same for every run."""
    from cryptography.fernet import Fernet  # noqa: PLC0415 - only here

    path = folder / "fernet.key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode())
    return path.read_text().strip()


def tidy_server(url: str) -> None:
    """Remove what a run that was stopped half-way left on the server: the bench's webhooks and model."""
    session = requests.Session()
    hooks = session.get(f"{url}/api/2.0/mlflow/webhooks", params={"max_results": 1000}, timeout=30).json()
    for hook in hooks.get("webhooks") or []:
        if str(hook.get("name", "")).startswith("signet-bench"):
            session.delete(f"{url}/api/2.0/mlflow/webhooks/{hook['webhook_id']}", timeout=30)
    found = session.get(
        f"{url}/api/2.0/mlflow/registered-models/search",
        params={"filter": f"name LIKE '{WEBHOOK_MODEL_PREFIX}%'", "max_results": 1000},
        timeout=30,
    ).json()
    for model in found.get("registered_models") or []:
        session.delete(f"{url}/api/2.0/mlflow/registered-models/delete", json={"name": model["name"]}, timeout=30)


def server_cpu_s(server: MlflowServer) -> float:
    """CPU seconds used so far by the MLflow server's process group (uvicorn and its workers)."""
    if server.process is None:
        return 0.0
    total = 0.0
    try:
        root = psutil.Process(server.process.pid)
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                total += times.user + times.system
    except psutil.NoSuchProcess:
        return 0.0
    return total


# --- the Signet side -----------------------------------------------------------------------------------
def read_pass(scratch: Path) -> tuple[dict[str, float], dict[str, Any]]:
    report = json.loads((scratch / "pass.json").read_text())
    return {"pass_s": float(report["pass_s"])}, report


def contenders(url: str, env: dict[str, str], cprofile: bool) -> dict[str, Contender]:
    def signet_pass(scratch: Path) -> list[str]:
        command = [str(MAIN_PYTHON), str(BENCH / "mlflow_bridge_signet.py"), "reconcile", "--url", url, "--out"]
        return [*command, str(scratch / "pass.json"), *(["--cprofile", str(scratch / "cprofile.txt")] * cprofile)]

    return {
        "mlflow": Contender(
            "mlflow",
            lambda scratch: [
                str(MAIN_PYTHON),
                str(BENCH / "mlflow_page.py"),
                "--url",
                url,
                "--out",
                str(scratch / "pass.json"),
            ],
            read_detail=read_pass,
        ),
        "signet-first": Contender("signet-first", signet_pass, env=env, read_detail=read_pass),
        "signet-again": Contender("signet-again", signet_pass, env=env, read_detail=read_pass),
    }


def flush_queue(redis_url: str) -> int:
    """Empty the bench's Redis database (the broker's queue): what a pass queued is not the next step's work."""
    client = redis.Redis.from_url(redis_url)
    size = int(client.dbsize())
    client.flushdb()
    return size


def signet_setup(url: str, env: dict[str, str], scratch: Path, projects: int) -> dict[str, Any]:
    """A fresh Signet database with the bench's projects, connection and API token (not timed)."""
    signet_db.fresh_copy(SIGNET_TEMPLATE, SIGNET_DB)
    out = scratch / "setup.json"
    command = [
        str(MAIN_PYTHON), str(BENCH / "mlflow_bridge_signet.py"), "setup", "--url", url,
        "--projects", str(projects), "--out", str(out),
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=REPO, env={**os.environ, **env})  # noqa: S603
    return dict(json.loads(out.read_text()))


@contextmanager
def signet_servers(env: dict[str, str], scratch: Path) -> Iterator[str]:
    """Signet under gunicorn (2 workers) and one Celery worker (prefork, 2 processes); yield the base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = [
        str(MAIN_PYTHON), "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--threads", "4", "--timeout", "60", "--error-logfile", "-", "--log-level", "warning",
    ]  # fmt: skip
    worker = [
        str(MAIN_PYTHON), "-m", "celery", "-A", "portal", "worker", "--pool=prefork", "--concurrency=2",
        "--loglevel=INFO", "-Q", "celery,periodic", "--without-mingle", "--without-gossip",
        "-n", f"bench-{os.getpid()}@%h",
    ]  # fmt: skip
    full_env = {**os.environ, **env}
    logs = {name: scratch / f"{name}.log" for name in ("gunicorn", "celery")}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in (("gunicorn", gunicorn), ("celery", worker)):
            with logs[name].open("wb") as log:
                processes.append(
                    subprocess.Popen(command, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
                )
        deadline = time.monotonic() + 90
        while True:
            up = False
            with contextlib.suppress(requests.RequestException):
                up = requests.get(f"{base}/healthz", timeout=2).status_code == 200
            if up and b" ready." in logs["celery"].read_bytes():
                break
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                tails = {n: p.read_text(errors="replace")[-3000:] for n, p in logs.items()}
                raise RuntimeError(f"Signet's servers did not start: {tails}")
            time.sleep(0.2)
        yield base
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def webhook_latency(
    args: argparse.Namespace, url: str, env: dict[str, str], token: str, scratch: Path
) -> dict[str, Any]:
    """(d): new versions created with the mlflow client, until Signet's API lists each; latencies in seconds."""
    from mlflow import MlflowClient  # noqa: PLC0415 - mlflow-skinny (dev lock), only for this part

    client = MlflowClient(tracking_uri=url, registry_uri=url)
    name = f"{WEBHOOK_MODEL_PREFIX}{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"
    latencies: list[float] = []
    flushed = flush_queue(args.redis_url)
    with signet_servers(env, scratch) as base:
        hook = client.create_webhook(
            name="signet-bench",
            url=base + RECEIVER.format(connection=CONNECTION),
            events=[
                "registered_model.created",
                "model_version.created",
                "model_version_tag.set",
                "model_version_tag.deleted",
                "model_version_alias.created",
                "model_version_alias.deleted",
            ],
            secret=env[WEBHOOK_SECRET_ENV],
        )
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"
        try:
            client.create_registered_model(name, tags={"signet.project": "bench-p00"}, description="webhook latency")
            model_id: int | None = None
            for number in range(1, args.webhook_versions + 1):
                client.create_model_version(name, f"s3://signet-bench/webhook/{name}/{number}/model")
                returned = time.perf_counter()
                deadline = returned + args.webhook_timeout
                while True:
                    if model_id is None:
                        found = api.get(f"{base}/api/v1/models/", params={"q": name}, timeout=10).json()
                        model_id = next((m["id"] for m in found.get("results") or [] if m["name"] == name), None)
                    if model_id is not None:
                        page = api.get(f"{base}/api/v1/models/{model_id}/versions/", timeout=10).json()
                        if any(v["number"] == number for v in page.get("results") or []):
                            break
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"version {number} of {name} not in Signet after {args.webhook_timeout} s")
                    time.sleep(POLL_S)
                latencies.append(time.perf_counter() - returned)
                print(f"  webhook version {number:3d}: {latencies[-1] * 1000:7.0f} ms", flush=True)
        finally:
            client.delete_webhook(hook.webhook_id)
            with contextlib.suppress(Exception):  # the data set stays as built
                client.delete_registered_model(name)
    return {
        "versions": len(latencies),
        "p50_s": statistics.median(latencies),
        "p95_s": percentile(latencies, 0.95),
        "max_s": max(latencies),
        "latencies_s": latencies,
        "queue_flushed_keys": flushed,
    }


# --- the run ---------------------------------------------------------------------------------------------
def summarise(runs: list[Measurement]) -> dict[str, Any]:
    passes = [m.phases["pass_s"] for m in runs]
    return {
        "pass_s_median": statistics.median(passes),
        "pass_s_min": min(passes),
        "wall_s_median": statistics.median(m.wall_s for m in runs),
        "cpu_s_median": statistics.median(m.cpu_s for m in runs),
        "server_cpu_s_median": statistics.median(m.detail.get("server_cpu_s", 0.0) for m in runs),
        "peak_rss_mb": max(m.peak_rss_mb for m in runs),
        "other_cpu_pct_max": max(m.other_cpu_pct for m in runs),
    }


def print_profile(name: str, report: dict[str, Any]) -> None:
    total = report["pass_s"] or 1.0
    print(f"\nprofile of {name} ({report['pass_s']:.2f} s): {report.get('message', '')}")
    if "pass_cpu_s" in report:
        print(f"  CPU of the pass (its process, all threads): {report['pass_cpu_s']:.2f} s")
    for part in ("http_s", "sql_s", "broker_s", "python_s"):
        print(f"  {part[:-2]:<7} {report[part]:8.2f} s  {100 * report[part] / total:5.1f}%")
    print(f"  MLflow calls: {report['http_calls']}")
    print(f"  {report['sql_statements']:,} SQL statements, {report['broker_calls']:,} tasks queued; the longest:")
    for row in report["top_sql"][:10]:
        print(f"    {row['s']:7.2f} s {row['calls']:7,} x  {row['sql'][:150]}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=50, help="versions per model")
    parser.add_argument("--projects", type=int, default=20, help="Signet projects the models' tags spread over")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds of (a), (b), (c)")
    parser.add_argument("--webhook-versions", type=int, default=50, help="(d): versions made one by one; 0: none")
    parser.add_argument("--webhook-timeout", type=float, default=60.0)
    parser.add_argument("--mlflow-workers", type=int, default=2)
    parser.add_argument("--build-method", choices=("bulk", "store"), default="bulk")
    parser.add_argument("--build-workers", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="build the MLflow data set even if it exists")
    parser.add_argument("--cprofile", action="store_true", help="cProfile Signet's passes too (slower: no ratios)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="broker of the bench's Signet")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--note", default="")
    parser.add_argument(
        "--contenders",
        default=",".join(ALL),
        help=f"a subset of {','.join(ALL)} (signet-again alone: passes over the last run's Signet database)",
    )
    args = parser.parse_args()
    args.contenders = [n.strip() for n in args.contenders.split(",") if n.strip()]
    if set(args.contenders) - set(ALL):
        parser.error(f"--contenders: a subset of {','.join(ALL)}")
    # signet-again without signet-first: unchanged passes over the Signet database the last run left.
    if "signet-first" not in args.contenders:
        args.webhook_versions = 0  # the receiver needs the connection the first pass's set-up makes
    if min(args.models, args.versions, args.projects, args.repeat) < 1 or args.projects > 100:
        parser.error("--models, --versions, --repeat must be at least 1, --projects 1 to 100")
    if not MLFLOW_PYTHON.exists():
        parser.error(f"{MLFLOW_PYTHON} is missing: run `make mlflow-server-env`")
    return args


def main() -> None:  # noqa: PLR0912, PLR0915 - one run, step by step, as bench/run.py
    args = parse_args()
    dataset = f"mlflow_bench_{args.models}x{args.versions}"
    folder = BENCH / "data" / "mlflow" / dataset
    built_s = ensure_dataset(args, dataset)
    if built_s is not None:
        vacuum_analyze(dataset)
        print(f"built {dataset} in {built_s:.0f} s")
    else:
        print(f"reusing {dataset} (built earlier; --rebuild to build it again)")

    with tempfile.TemporaryDirectory(prefix="signet-bench-bridge-") as tmp:
        scratch_root = Path(tmp)
        env = signet_db.signet_env(SIGNET_DB, scratch_root / "var", redis_url=args.redis_url, cache_url=args.cache_url)
        env[WEBHOOK_SECRET_ENV] = secrets.token_urlsafe(24)
        if signet_db.ensure_template(SIGNET_TEMPLATE, env):
            print(f"migrated {SIGNET_TEMPLATE}")
        server = MlflowServer(
            folder / "server",
            backend_uri=mlflow_uri(dataset),
            workers=args.mlflow_workers,
            env={"MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": fernet_key(folder)},
        )
        server.start()
        try:
            tidy_server(server.url)
            available = contenders(server.url, env, args.cprofile)
            selected = {name: available[name] for name in ALL if name in args.contenders}
            runs: dict[str, list[Measurement]] = {name: [] for name in selected}
            # Unmeasured: the server's first requests open its database pools and fill PostgreSQL's cache.
            measure(available["mlflow"], scratch_root / "warm-up", args.timeout)
            setup: dict[str, Any] = {}
            for repeat in range(args.repeat):
                for name, contender in selected.items():  # interleaved: (a), then (b) and (c) on a fresh Signet
                    scratch = scratch_root / f"{name}-{repeat}"
                    scratch.mkdir(parents=True)
                    if name == "signet-first":
                        flush_queue(args.redis_url)
                        setup = signet_setup(server.url, env, scratch, args.projects)
                    cpu_before = server_cpu_s(server)
                    m = measure(contender, scratch, args.timeout)
                    m.detail["server_cpu_s"] = server_cpu_s(server) - cpu_before
                    runs[name].append(m)
                    print(
                        f"  run {repeat + 1}/{args.repeat} {name:<13} {m.phases['pass_s']:8.2f} s pass "
                        f"{m.wall_s:8.2f} s wall {m.cpu_s:7.2f} s CPU, "
                        f"MLflow server {m.detail['server_cpu_s']:6.2f} s CPU "
                        f"(load {m.loadavg_before:.1f})",
                        flush=True,
                    )
            expected = args.models * args.versions
            checks: dict[str, Any] = {"expected": [args.models, expected]}
            if "mlflow" in runs:
                checks["mlflow_listed"] = [runs["mlflow"][-1].detail["models"], runs["mlflow"][-1].detail["versions"]]
            if "signet-first" in runs:
                result = runs["signet-first"][-1].detail["result"]
                checks["first_created"] = [result.get("signet_models_created"), result.get("signet_versions_created")]
            if "signet-again" in runs:
                result = runs["signet-again"][-1].detail["result"]
                checks["again_unchanged"] = [result.get("models_unchanged"), result.get("versions_unchanged")]
            webhook: dict[str, Any] | None = None
            if args.webhook_versions > 0:
                print("\n(d) webhook to visible Signet version:")
                webhook = webhook_latency(args, server.url, env, setup["token"], scratch_root)
        finally:
            server.stop()

        summaries = {name: summarise(ms) for name, ms in runs.items()}
        ratios: dict[str, float] = {}
        goals: dict[str, dict[str, Any]] = {}
        for name, short, limit in (("signet-first", "first", 1.5), ("signet-again", "again", 1.2)):
            if name not in summaries or "mlflow" not in summaries:
                continue
            ratios[f"{short}/mlflow"] = summaries[name]["pass_s_median"] / summaries["mlflow"]["pass_s_median"]
            ratios[f"{short}/mlflow (wall)"] = summaries[name]["wall_s_median"] / summaries["mlflow"]["wall_s_median"]
            label = f"{'first' if short == 'first' else 'unchanged'} pass <= {limit} x MLflow's paging"
            goals[label] = {"value": ratios[f"{short}/mlflow"], "met": ratios[f"{short}/mlflow"] <= limit}
        if webhook:
            goals["webhook to visible version p95 < 2 s"] = {"value": webhook["p95_s"], "met": webhook["p95_s"] < 2.0}

        print(f"\n{args.models:,} models x {args.versions} versions ({expected:,}), median of {args.repeat}:")
        print(f"  {'':<14} {'pass s':>9} {'wall s':>9} {'CPU s':>8} {'MLflow CPU s':>13} {'peak MB':>8}")
        for name, s in summaries.items():
            print(
                f"  {name:<14} {s['pass_s_median']:9.2f} {s['wall_s_median']:9.2f} {s['cpu_s_median']:8.2f} "
                f"{s['server_cpu_s_median']:13.2f} {s['peak_rss_mb']:8.0f}"
            )
        for label, value in ratios.items():
            print(f"  ratio {label}: {value:.2f}x")
        if webhook:
            p50, p95, most = (webhook[k] * 1000 for k in ("p50_s", "p95_s", "max_s"))
            print(f"  webhook: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {most:.0f} ms")
        for label, verdict in goals.items():
            print(f"goal: {label}: {verdict['value']:.2f} -> {'met' if verdict['met'] else 'NOT met'}")
        print(f"check: {checks}")
        for name in (n for n in ("signet-first", "signet-again") if n in runs):
            print_profile(name, runs[name][-1].detail)
            profile_file = scratch_root / f"{name}-{args.repeat - 1}" / "cprofile.txt"
            if profile_file.exists():
                print(profile_file.read_text()[:14000])

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"mlflow-bridge-{stamp}.json"
    record = {
        "timestamp": stamp,
        "models": args.models,
        "versions": args.versions,
        "projects": args.projects,
        "repeat": args.repeat,
        "built_s": built_s,
        "note": args.note,
        "machine": machine(),
        "summaries": summaries,
        "ratios": ratios,
        "goals": goals,
        "checks": checks,
        "webhook": webhook,
        "runs": {
            name: [
                {
                    "wall_s": m.wall_s,
                    "cpu_s": m.cpu_s,
                    "peak_rss_mb": m.peak_rss_mb,
                    "loadavg_before": m.loadavg_before,
                    "other_cpu_pct": m.other_cpu_pct,
                    "detail": m.detail,
                }
                for m in ms
            ]
            for name, ms in runs.items()
        },
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nwritten: {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
