"""Benchmark the registry at organisation scale (#13): Signet against MLflow's registry on the same data.

    make install mlflow-server-env
    .venv/bin/python bench/registry_scale.py --profile                  # 2,000 x 50, 1,000,000 events
    .venv/bin/python bench/registry_scale.py --models 50 --versions 5 --audit-events 10000 --rounds 1
    .venv/bin/python bench/registry_scale.py --signet-root /work/main --ops api-list,page-models --profile

The data set is built once and kept (each database's comment says what it holds; ``--rebuild``):
MLflow's in ``mlflow_bench_<models>x<versions>`` by bench/mlflow_build.py, Signet's in
``signet_bench_scale_<models>x<versions>`` by bench/registry_build.py. Every run measures a fresh
copy of Signet's, ``signet_bench_scale``, migrated by the checkout measured (``--signet-root``: its
code serves the requests, its migrations run on the copy, as a deployment would run them).

Signet runs under gunicorn (2 workers x 4 threads, production settings, DEBUG off), MLflow 3.17.2
(``.venv-mlflow``) with 2 workers, both on the local PostgreSQL. The load client
(bench/registry_load.py) runs each operation at concurrency 1 and 8 for ``--rounds`` interleaved
rounds (Signet, then MLflow, operation by operation), after one unmeasured warm-up, as
``bench-viewer`` (a validator who sees ``--visible`` of the ``--projects`` projects; the audit pages as
``bench-auditor``, the only kind of non-administrator who reads the trail), ids drawn with a seeded
generator from what that user sees. Writes: ``bench-writer`` (developer) creates versions from 8
threads for ``--write-seconds``. ``--profile`` then sends one request of each operation in-process
(bench/registry_signet.py): query count, SQL time, the rest, the top statements.

Results: a markdown table and bench/results/registry-scale-<UTC>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import requests
import signet_db
from mlflow_bridge import ensure_dataset, mlflow_uri, vacuum_analyze
from psycopg2 import sql
from registry_load import Call, Outcome, run, sign_in
from report import machine

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from tests.mlflow_server import MlflowServer, free_port  # noqa: E402 - after the path

TEMPLATE = "signet_bench_scale_template"
RUN_DB = "signet_bench_scale"
BUILDER_VERSION = 1  # bump when bench/registry_build.py writes other data
PASSWORD = "correct-horse-battery"  # noqa: S105 - tests/factories.py, which the builder makes its users with
API_OPS = ("api-list", "api-deep", "api-tag", "api-versions", "api-model", "api-version")
PAGE_OPS = (
    "page-models", "page-project", "page-model", "page-version", "page-review", "page-portfolio",
    "page-audit-project", "page-audit-actor",
)  # fmt: skip
ALL_OPS = (*API_OPS, *PAGE_OPS, "write")
DEEP = 1000  # models before the deep page
PAGE = 50
MLFLOW_API = "/api/2.0/mlflow"
PG: dict[str, Any] = dict(signet_db.PG)


# --- databases -----------------------------------------------------------------------------------------
def _admin() -> Any:
    conn = psycopg2.connect(dbname="postgres", **PG)
    conn.autocommit = True
    return conn


def _comment(name: str) -> str | None:
    conn = _admin()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name])
            row = cursor.fetchone()
            return None if row is None else (row[0] or "")
    finally:
        conn.close()


def _set_comment(name: str, text: str) -> None:
    conn = _admin()
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("COMMENT ON DATABASE {} IS %s").format(sql.Identifier(name)), [text])
    finally:
        conn.close()


def signet_marker(args: argparse.Namespace) -> str:
    return (
        f"signet-bench registry-scale v{BUILDER_VERSION}: models={args.models} versions={args.versions} "
        f"projects={args.projects} visible={args.visible} audit_events={args.audit_events} seed={args.seed}"
    )


def python_of(root: Path) -> str:
    return str(root / ".venv" / "bin" / "python")


def ensure_signet_data(args: argparse.Namespace, scratch: Path) -> dict[str, Any] | None:
    """Build Signet's data set with this checkout's code unless its database holds it; what the build said."""
    name = f"signet_bench_scale_{args.models}x{args.versions}"
    comment = _comment(name) or ""
    if comment.startswith(signet_marker(args)) and not args.rebuild:
        return None
    env = signet_db.signet_env(name, scratch / "build-var", redis_url=args.redis_url, cache_url=args.cache_url)
    if signet_db.ensure_template(TEMPLATE, env):
        print(f"migrated {TEMPLATE}", flush=True)
    signet_db.fresh_copy(TEMPLATE, name)
    print(f"building Signet's data set in {name} ...", flush=True)
    started = time.perf_counter()
    out = scratch / "build.json"
    command = [
        python_of(REPO), str(BENCH / "registry_build.py"), "--models", str(args.models), "--versions",
        str(args.versions), "--projects", str(args.projects), "--visible", str(args.visible),
        "--audit-events", str(args.audit_events), "--seed", str(args.seed), "--out", str(out),
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=REPO, env={**os.environ, **env})  # noqa: S603
    report = dict(json.loads(out.read_text()))
    report["build_s"] = time.perf_counter() - started
    vacuum_analyze(name)
    started = time.perf_counter()
    verify = subprocess.run(  # noqa: S603
        [python_of(REPO), "manage.py", "audit_verify"], cwd=REPO, env={**os.environ, **env},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    report["audit_verify_s"] = time.perf_counter() - started
    report["audit_verify"] = (verify.stdout + verify.stderr).strip()[-500:]
    if verify.returncode != 0:
        raise SystemExit(f"audit_verify fails on the built trail: {report['audit_verify']}")
    _set_comment(name, f"{signet_marker(args)} | {json.dumps(report)}")
    return report


def run_copy(args: argparse.Namespace, env: dict[str, str]) -> dict[str, float]:
    """A fresh copy of the data set, migrated and analysed by the checkout measured; seconds per step."""
    source = f"signet_bench_scale_{args.models}x{args.versions}"
    times: dict[str, float] = {}
    started = time.perf_counter()
    conn = _admin()
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(RUN_DB)))
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(RUN_DB), sql.Identifier(source)
                )
            )
    finally:
        conn.close()
    times["copy_s"] = time.perf_counter() - started
    root = args.signet_root
    full_env = {**os.environ, **env}
    started = time.perf_counter()
    migrate = [python_of(root), "manage.py", "migrate", "--noinput", "-v", "1"]
    subprocess.run(migrate, cwd=root, env=full_env, check=True)  # noqa: S603
    times["migrate_s"] = time.perf_counter() - started
    vacuum_analyze(RUN_DB)
    static = [python_of(root), "manage.py", "collectstatic", "--noinput", "-v", "0"]
    subprocess.run(static, cwd=root, env=full_env, check=True)  # noqa: S603
    times["ready_s"] = time.perf_counter() - started
    return times


def signet_script(args: argparse.Namespace, env: dict[str, str], *rest: str) -> Any:
    out = Path(env["SIGNET_VAR_DIR"]).parent / f"signet-{rest[0]}.json"
    command = [python_of(args.signet_root), str(BENCH / "registry_signet.py"), *rest, "--out", str(out)]
    full_env = {**os.environ, **env, "SIGNET_BENCH_ROOT": str(args.signet_root)}
    subprocess.run(command, cwd=args.signet_root, env=full_env, check=True)  # noqa: S603
    return json.loads(out.read_text())


def tidy_mlflow(database: str, versions: int) -> int:
    """Remove the versions earlier write runs added to MLflow's data set (numbers above the built ones)."""
    conn = psycopg2.connect(dbname=database, **PG)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("DELETE FROM model_version_tags WHERE version > %s", [versions])
            cursor.execute("DELETE FROM model_versions WHERE version > %s", [versions])
            return int(cursor.rowcount)
    finally:
        conn.close()


@contextmanager
def gunicorn(args: argparse.Namespace, env: dict[str, str], log: Path) -> Iterator[str]:
    """Signet under gunicorn, 2 workers x ``--signet-threads`` (4, as bench/mlflow_bridge.py); yield its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        python_of(args.signet_root), "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--threads", str(args.signet_threads), "--timeout", "600",
        "--error-logfile", "-", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=args.signet_root, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"gunicorn did not start: {log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the operations ------------------------------------------------------------------------------------
def deep_cursor(base: str, token: str) -> str:
    """The URL of Signet's page of models that starts DEEP models in, found by following the cursors."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = f"{base}/api/v1/models/?page_size={PAGE}"
    for _ in range(DEEP // PAGE):
        page = session.get(url, timeout=600).json()
        if not page.get("next"):
            break
        url = page["next"]
    return str(url)


def deep_token(url: str) -> str:
    """MLflow's page_token for the same depth."""
    session = requests.Session()
    token = ""
    for _ in range(DEEP // PAGE):
        params: dict[str, Any] = {"max_results": PAGE, **({"page_token": token} if token else {})}
        page = session.get(f"{url}{MLFLOW_API}/registered-models/search", params=params, timeout=600).json()
        if not page.get("next_page_token"):
            break
        token = page["next_page_token"]
    return token


def plan(args: argparse.Namespace, setup: dict[str, Any], base: str, mlflow: str, count: int) -> dict[str, Any]:
    """For each operation and server, ``count`` calls drawn with the seeded generator."""
    rng = random.Random(args.seed)  # noqa: S311 - seeded picks, not secrets
    models = setup["models"]
    versions = setup["versions"]
    projects = setup["projects"]
    reviews = setup["reviews"] or [0]
    api, ml = f"{base}/api/v1", f"{mlflow}{MLFLOW_API}"

    def draw(make_signet: Any, make_mlflow: Any = None) -> dict[str, list[Call]]:
        picks = [rng.random() for _ in range(count)]
        calls = {"signet": [make_signet(p) for p in picks]}
        if make_mlflow is not None:
            calls["mlflow"] = [make_mlflow(p) for p in picks]
        return calls

    def model(p: float) -> tuple[int, str]:
        return tuple(models[int(p * len(models))])

    def version(p: float) -> tuple[int, str, int]:
        return tuple(versions[int(p * len(versions))])

    def team(p: float) -> str:
        return f"team-{int(p * 7)}"

    def tag_filter(p: float) -> str:
        return f"tags.team+%3D+%27{team(p)}%27"

    signet_deep = setup["deep_url"]
    mlflow_deep = setup["mlflow_deep_token"]
    ops: dict[str, dict[str, list[Call]]] = {
        "api-list": draw(
            lambda p: Call("GET", f"{api}/models/?page_size={PAGE}"),
            lambda p: Call("GET", f"{ml}/registered-models/search?max_results={PAGE}"),
        ),
        "api-deep": draw(
            lambda p: Call("GET", signet_deep),
            lambda p: Call("GET", f"{ml}/registered-models/search?max_results={PAGE}&page_token={mlflow_deep}"),
        ),
        "api-tag": draw(
            lambda p: Call("GET", f"{api}/models/?page_size={PAGE}&tag={team(p)}"),
            lambda p: Call("GET", f"{ml}/registered-models/search?max_results={PAGE}&filter={tag_filter(p)}"),
        ),
        "api-versions": draw(
            lambda p: Call("GET", f"{api}/models/{model(p)[0]}/versions/?page_size={PAGE}"),
            lambda p: Call("GET", f"{ml}/model-versions/search?max_results={PAGE}&filter=name%3D%27{model(p)[1]}%27"),
        ),
        "api-model": draw(
            lambda p: Call("GET", f"{api}/models/{model(p)[0]}/"),
            lambda p: Call("GET", f"{ml}/registered-models/get?name={model(p)[1]}"),
        ),
        "api-version": draw(
            lambda p: Call("GET", f"{api}/versions/{version(p)[0]}/"),
            lambda p: Call("GET", f"{ml}/model-versions/get?name={version(p)[1]}&version={version(p)[2]}"),
        ),
        "page-models": draw(lambda p: Call("GET", f"{base}/registry/models/")),
        "page-project": draw(lambda p: Call("GET", f"{base}/projects/{projects[int(p * len(projects))]}/")),
        "page-model": draw(lambda p: Call("GET", f"{base}/registry/models/{model(p)[0]}/")),
        "page-version": draw(lambda p: Call("GET", f"{base}/registry/versions/{version(p)[0]}/")),
        "page-review": draw(lambda p: Call("GET", f"{base}/workflows/reviews/{reviews[int(p * len(reviews))]}/")),
        "page-portfolio": draw(lambda p: Call("GET", f"{base}/portfolio/")),
        "page-audit-project": draw(lambda p: Call("GET", f"{base}/audit/?project={projects[int(p * len(projects))]}")),
        "page-audit-actor": draw(lambda p: Call("GET", f"{base}/audit/?actor=bench-dev{int(p * 24):02d}")),
    }
    writable = setup["writable_models"]
    many = args.write_limit
    ops["write"] = {
        "signet": [
            Call("POST", f"{api}/models/{m[0]}/versions/", {"artifact_uri": f"s3://signet-bench/w/{i}"})
            for i, m in enumerate(rng.choice(writable) for _ in range(many))
        ],
        "mlflow": [
            Call("POST", f"{ml}/model-versions/create", {"name": m[1], "source": f"s3://signet-bench/w/{i}"})
            for i, m in enumerate(rng.choice(writable) for _ in range(many))
        ],
    }
    return ops


# --- the run -------------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=50, help="versions per model")
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--visible", type=int, default=18, help="projects bench-viewer and bench-writer are in")
    parser.add_argument("--audit-events", type=int, default=1_000_000, help="events in the trail, in total")
    parser.add_argument("--rebuild", action="store_true", help="build both data sets again")
    parser.add_argument("--signet-root", type=Path, default=REPO, help="the checkout whose code is measured")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; 0: no load (with --profile)")
    parser.add_argument("--requests", type=int, default=200, help="requests per operation at concurrency 8")
    parser.add_argument("--requests-c1", type=int, default=60, help="requests per operation at concurrency 1")
    parser.add_argument("--max-seconds", type=float, default=45.0, help="time budget of one operation's run")
    parser.add_argument("--warm-up", type=int, default=5, help="unmeasured requests per operation and server")
    parser.add_argument("--write-seconds", type=float, default=20.0, help="each server's write run, 8 clients")
    parser.add_argument("--write-limit", type=int, default=4000, help="at most this many versions per write run")
    parser.add_argument("--ops", default=",".join(ALL_OPS), help=f"a subset of {','.join(ALL_OPS)}")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--profile", action="store_true", help="one in-process request per operation, SQL counted")
    parser.add_argument("--mlflow-workers", type=int, default=2)
    parser.add_argument("--signet-threads", type=int, default=4, help="threads of each of Signet's 2 gunicorn workers")
    parser.add_argument("--build-workers", type=int, default=3)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="Signet's broker (db 12)")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/13", help="Signet's cache (db 13)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    if set(args.ops) - set(ALL_OPS):
        parser.error(f"--ops: a subset of {','.join(ALL_OPS)}")
    args.signet_root = args.signet_root.resolve()
    if not Path(python_of(args.signet_root)).exists():
        parser.error(f"{python_of(args.signet_root)} is missing: run `make install` in {args.signet_root}")
    if not 1 <= args.visible <= args.projects:
        parser.error("--visible: 1 to --projects")
    args.build_method = "bulk"
    return args


def git_head(root: Path) -> str:
    command = ["git", "-C", str(root), "rev-parse", "HEAD"]
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()  # noqa: S603


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    merged = Outcome()
    for outcome in outcomes:
        merged.latencies_s += outcome.latencies_s
        merged.errors += outcome.errors
        merged.elapsed_s += outcome.elapsed_s
    summary = merged.summary()
    summary["rounds_p95_ms"] = [o.summary()["p95_ms"] for o in outcomes]
    return summary


def table(results: dict[str, Any], ops: list[str]) -> str:
    lines = [
        "| operation | conc. | Signet p50 ms | Signet p95 ms | n | MLflow p50 ms | MLflow p95 ms | n"
        " | MLflow p95 / Signet p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for op in (o for o in ops if o != "write"):
        for conc in ("1", "8"):
            s = results.get(op, {}).get("signet", {}).get(conc)
            m = results.get(op, {}).get("mlflow", {}).get(conc)
            if s is None:
                continue
            ratio = m["p95_ms"] / s["p95_ms"] if m and m["p95_ms"] and s["p95_ms"] else None
            lines.append(
                f"| {op} | {conc} | {fmt(s['p50_ms'])} | {fmt(s['p95_ms'])} | {s['n']}"
                + (f"{' (' + str(s['errors']) + ' errors)' if s['errors'] else ''}")
                + f" | {fmt(m['p50_ms']) if m else '—'} | {fmt(m['p95_ms']) if m else '—'} | {m['n'] if m else '—'}"
                + f" | {f'{ratio:.2f}x' if ratio else '—'} |"
            )
    if "write" in results:
        s = results["write"].get("signet", {}).get("8")
        m = results["write"].get("mlflow", {}).get("8")
        if s:
            ratio = s["per_s"] / m["per_s"] if m and m["per_s"] and s["per_s"] else None
            rate = f"{m['per_s']:.1f}/s" if m else "—"
            lines.append(
                f"| write: versions per second (8 clients) | 8 | {s['per_s']:.1f}/s | p95 {fmt(s['p95_ms'])} | {s['n']}"
                f" | {rate} | p95 {fmt(m['p95_ms']) if m else '—'} | {m['n'] if m else '—'}"
                f" | Signet/MLflow rate {f'{ratio:.2f}x' if ratio else '—'} |"
            )
    return "\n".join(lines)


def print_profile(profile: list[dict[str, Any]]) -> str:
    out = ["\nprofile (one request each, in-process, after one unmeasured):"]
    for row in profile:
        out.append(
            f"  {row['op']:<19} {row['status']} {1000 * row['total_s']:8.1f} ms  SQL {1000 * row['sql_s']:8.1f} ms"
            f"  rest {1000 * row['rest_s']:8.1f} ms  {row['queries']:4d} queries  {row['bytes']:,} bytes"
        )
        for statement in row["top_sql"]:
            out.append(f"      {1000 * statement['s']:8.1f} ms {statement['calls']:4d} x  {statement['sql'][:220]}")
    return "\n".join(out)


def main() -> None:  # noqa: PLR0912, PLR0915 - one run, step by step
    args = parse_args()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    mlflow_db = f"mlflow_bench_{args.models}x{args.versions}"
    record: dict[str, Any] = {"timestamp": stamp, "args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="signet-bench-scale-") as tmp:
        scratch = Path(tmp)
        if not args.skip_mlflow:
            built = ensure_dataset(args, mlflow_db)
            if built is not None:
                vacuum_analyze(mlflow_db)
            print(f"MLflow data set {mlflow_db}: {f'built in {built:.0f} s' if built else 'reused'}", flush=True)
            record["mlflow_built_s"] = built
            record["mlflow_tidied"] = tidy_mlflow(mlflow_db, args.versions)
        build = ensure_signet_data(args, scratch)
        print(f"Signet data set: {'built ' + json.dumps(build) if build else 'reused'}", flush=True)
        record["signet_build"] = build
        env = signet_db.signet_env(RUN_DB, scratch / "var", redis_url=args.redis_url, cache_url=args.cache_url)
        env["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
        # A pipeline's token gets the rate its operator sets (MLflow has none): at the default 1,200
        # a minute, the runs at concurrency 8 would be measuring 429s.
        env["API_RATE_PER_TOKEN"] = "1000000/minute"  # noqa: S105 - a rate, not a secret
        record["run_copy"] = run_copy(args, env)
        print(f"run database ready: {record['run_copy']}", flush=True)
        setup = signet_script(args, env, "setup")
        server: MlflowServer | None = None
        if not args.skip_mlflow:
            folder = BENCH / "data" / "mlflow" / mlflow_db
            server = MlflowServer(folder / "server", backend_uri=mlflow_uri(mlflow_db), workers=args.mlflow_workers)
            server.start()
        results: dict[str, Any] = {}
        try:
            with gunicorn(args, env, scratch / "gunicorn.log") as base:
                mlflow = server.url if server else ""
                print(f"Signet {base} ({args.signet_root}), MLflow {mlflow or 'skipped'}", flush=True)
                setup["deep_url"] = deep_cursor(base, setup["read_token"])
                setup["mlflow_deep_token"] = deep_token(mlflow) if server else ""
                viewer = sign_in(base, "bench-viewer", PASSWORD)
                auditor = sign_in(base, "bench-auditor", PASSWORD)
                calls = plan(args, setup, base, mlflow, max(args.requests, args.requests_c1) + args.warm_up)
                servers = ["signet"] if args.skip_mlflow else ["signet", "mlflow"]

                def credentials(op: str, name: str) -> tuple[dict[str, str], dict[str, str]]:
                    if name == "mlflow":
                        return {}, {}
                    if op == "write":
                        return {"Authorization": f"Bearer {setup['write_token']}"}, {}
                    if op.startswith("api-"):
                        return {"Authorization": f"Bearer {setup['read_token']}"}, {}
                    return {}, (auditor if op.startswith("page-audit") else viewer)

                reads = [o for o in args.ops if o != "write"]
                if args.rounds:
                    for op in reads:  # warm-up, unmeasured
                        for name in servers:
                            if name in calls[op]:
                                headers, cookies = credentials(op, name)
                                run(calls[op][name][: args.warm_up], concurrency=1, headers=headers,
                                    cookies=cookies, budget_s=args.max_seconds)  # fmt: skip
                outcomes: dict[tuple[str, str, int], list[Outcome]] = {}
                for round_no in range(args.rounds):
                    for op in args.ops:
                        for name in servers:
                            if name not in calls[op]:
                                continue
                            headers, cookies = credentials(op, name)
                            levels = (8,) if op == "write" else (1, 8)
                            for conc in levels:
                                if op == "write":
                                    todo = calls[op][name]
                                    budget, expect = args.write_seconds, (200, 201)
                                else:
                                    wanted = args.requests if conc == 8 else args.requests_c1
                                    todo = calls[op][name][args.warm_up : args.warm_up + wanted]
                                    budget, expect = args.max_seconds, (200, 200)
                                outcome = run(todo, concurrency=conc, headers=headers, cookies=cookies,
                                              budget_s=budget, expect=expect)  # fmt: skip
                                outcomes.setdefault((op, name, conc), []).append(outcome)
                                s = outcome.summary()
                                print(
                                    f"  round {round_no + 1}/{args.rounds} {op:<19} {name:<6} c{conc}: n {s['n']:4d}"
                                    f" p50 {fmt(s['p50_ms']):>7} ms p95 {fmt(s['p95_ms']):>7} ms"
                                    f" {s['per_s'] or 0:7.1f}/s  errors {s['errors']} {s['first_error'][:160]}"
                                    f" (load {os.getloadavg()[0]:.1f})",
                                    flush=True,
                                )
                for (op, name, conc), done in outcomes.items():
                    results.setdefault(op, {}).setdefault(name, {})[str(conc)] = summarise(done)
        finally:
            if server is not None:
                server.stop()
                record["mlflow_tidied_after"] = tidy_mlflow(mlflow_db, args.versions)
        profile: list[dict[str, Any]] = []
        if args.profile:
            requests_file = scratch / "profile-requests.json"
            wanted = []
            for op in args.ops:
                call = calls[op]["signet"][0]
                path = call.url.split("://", 1)[1].split("/", 1)[1]
                user = "" if op.startswith("api-") or op == "write" else "bench-viewer"
                user = "bench-auditor" if op.startswith("page-audit") else user
                token = setup["write_token"] if op == "write" else setup["read_token"] if op.startswith("api-") else ""
                wanted.append({"op": op, "method": call.method, "path": "/" + path, "user": user, "token": token,
                               "body": call.body})  # fmt: skip
            requests_file.write_text(json.dumps(wanted))
            profile = signet_script(args, env, "profile", "--requests", str(requests_file))
    markdown = table(results, args.ops)
    print(f"\n{args.models:,} models x {args.versions} versions, {args.audit_events:,} audit events, "
          f"{args.rounds} rounds, Signet from {args.signet_root}:\n")  # fmt: skip
    print(markdown)
    budget = [
        f"{op} c{conc}: p95 {fmt(results[op]['signet'][conc]['p95_ms'])} ms "
        f"({'within' if (results[op]['signet'][conc]['p95_ms'] or 1e9) < limit else 'OVER'} {limit} ms)"
        for op in PAGE_OPS
        if op in results
        for conc, limit in (("1", 150), ("8", 600))
        if conc in results[op].get("signet", {})
    ]
    if budget:
        print("\nHTML budgets: " + "; ".join(budget))
    if profile:
        print(print_profile(profile))
    record.update(
        {
            "note": args.note,
            "machine": machine(),
            "loadavg_end": os.getloadavg(),
            "results": results,
            "profile": profile,
            "markdown": markdown,
            "setup": {k: (v if not isinstance(v, list) else len(v)) for k, v in setup.items() if "token" not in k},
            "git": git_head(args.signet_root),
        }
    )
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"registry-scale-{stamp}.json"
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
