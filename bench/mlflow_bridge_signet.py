"""Signet's side of bench/mlflow_bridge.py: set up a connection, run one reconcile pass and time its parts.

    .venv/bin/python bench/mlflow_bridge_signet.py setup --url URL --projects 20 --out setup.json
    .venv/bin/python bench/mlflow_bridge_signet.py reconcile --out pass.json [--cprofile prof.txt]

Run by the harness in Signet's venv with the environment of bench/signet_db.py (production settings
on a database of its own). ``reconcile`` times the pass inside the process (Django's start-up is not
part of it: the pass runs in a long-lived worker) and splits it into time spent waiting for MLflow
(every HTTP call the ``requests`` session makes, response bodies read), in SQL (every statement,
through Django's execute wrapper) and the rest (Python: JSON, comparing, building rows, hashing the
audit chain). The statements are grouped by their text with the parameters and repeated VALUES
lists folded, so the top of the list says which statements to batch.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

django.setup()

import celery  # noqa: E402 - after django.setup(), as every import of Signet below
import requests  # noqa: E402
from django.db import connection as database  # noqa: E402
from django.db import transaction  # noqa: E402

from apps.accounts.choices import TeamFunction  # noqa: E402
from apps.accounts.models import User  # noqa: E402
from apps.accounts.services import api_token_create  # noqa: E402
from apps.integrations.models import MlflowConnection  # noqa: E402
from apps.integrations.services.connections import connection_create, connection_update  # noqa: E402
from apps.projects.services import project_create  # noqa: E402
from tests.factories import make_user  # noqa: E402

CONNECTION = "bench"
WEBHOOK_SECRET_ENV = "SIGNET_MLFLOW_BENCH_WEBHOOK_SECRET"  # noqa: S105 - the name of a variable
_VALUES = re.compile(r"\((?:%s, )*%s\)(?:, \((?:%s, )*%s\))+")
_IN_LIST = re.compile(r"IN \((?:%s, )*%s\)")


def project_slug(index: int) -> str:
    return f"bench-p{index:02d}"


def setup(args: argparse.Namespace) -> dict[str, Any]:
    """An administrator, an owner's ``--projects`` projects, the connection, an API token to read versions with."""
    with transaction.atomic():
        admin = make_user("bench-admin", superuser=True)
        owner = make_user("bench-owner", TeamFunction.DATA_SCIENCE)
        slugs = []
        for index in range(args.projects):
            project = project_create(
                actor=owner,
                name=f"Bench project {index:02d}",
                slug=project_slug(index),
                business_objective="Measure the MLflow bridge.",
            )
            slugs.append(project.slug)
        connection = connection_create(
            actor=admin, name=CONNECTION, url=args.url, webhook_secret_env=WEBHOOK_SECRET_ENV, write_back=False
        )
        _, token = api_token_create(actor=None, user=admin, name="bench")
    return {"connection_id": connection.pk, "projects": slugs, "token": token}


class Profile:
    """Time and count per kind: MLflow HTTP calls and SQL statements (grouped by their folded text)."""

    def __init__(self) -> None:
        self.http_s = 0.0
        self.http_calls: dict[str, list[float]] = {}
        self.sql_s = 0.0
        self.sql: dict[str, list[float]] = {}
        self.broker_s = 0.0
        self.broker_calls = 0

    def sql_wrapper(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.sql_s += elapsed
            key = _IN_LIST.sub("IN (…)", _VALUES.sub("(…), …", sql))
            entry = self.sql.setdefault(key, [0, 0.0])
            entry[0] += 1
            entry[1] += elapsed

    def wrap_http(self) -> None:
        original = requests.Session.request
        profile = self

        def request(session: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                response = original(session, method, url, *args, **kwargs)
                if not kwargs.get("stream"):
                    _ = response.content  # the body is part of the wait
                return response
            finally:
                elapsed = time.perf_counter() - started
                profile.http_s += elapsed
                endpoint = url.split("/api/2.0/mlflow/", 1)[-1].split("?", 1)[0]
                entry = profile.http_calls.setdefault(f"{method} {endpoint}", [0, 0.0])
                entry[0] += 1
                entry[1] += elapsed

        requests.Session.request = request  # type: ignore[method-assign]

    def wrap_copy(self) -> None:
        """Time the COPY statements of ``apps.core.bulk`` as SQL (they bypass Django's execute wrappers)."""
        from apps.core import bulk  # noqa: PLC0415 - after django.setup(), as the imports above

        original = bulk.copy_from

        def copy_from(cursor: Any, sql: str, buffer: io.StringIO) -> None:
            self.sql_wrapper(
                lambda *_: original(cursor, sql, buffer), sql.split(" FROM ")[0] + " FROM STDIN", None, False, None
            )

        bulk.copy_from = copy_from

    def wrap_broker(self) -> None:
        """Time Celery's send_task: the tasks a pass queues (artifact hashing) cost a broker round trip each."""
        original = celery.Celery.send_task
        profile = self

        def send_task(app: celery.Celery, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(app, *args, **kwargs)
            finally:
                profile.broker_s += time.perf_counter() - started
                profile.broker_calls += 1

        celery.Celery.send_task = send_task  # type: ignore[method-assign]

    def report(self, total_s: float, top: int) -> dict[str, Any]:
        statements = sorted(self.sql.items(), key=lambda item: -item[1][1])
        return {
            "pass_s": total_s,
            "http_s": self.http_s,
            "sql_s": self.sql_s,
            "broker_s": self.broker_s,
            "broker_calls": self.broker_calls,
            "python_s": max(0.0, total_s - self.http_s - self.sql_s - self.broker_s),
            "http_calls": {k: {"calls": v[0], "s": v[1]} for k, v in sorted(self.http_calls.items())},
            "sql_statements": sum(int(v[0]) for v in self.sql.values()),
            "top_sql": [{"calls": int(v[0]), "s": v[1], "sql": k[:400]} for k, v in statements[:top]],
        }


def reconcile_pass(args: argparse.Namespace) -> dict[str, Any]:
    from apps.integrations.services.sync import reconcile  # noqa: PLC0415 - absent until the sync work lands

    connection = MlflowConnection.objects.get(name=CONNECTION)
    if connection.url != args.url:  # a database of an earlier run: its server had another port
        admin = User.objects.get(username="bench-admin")
        connection = connection_update(actor=admin, connection=connection, url=args.url)
    profile = Profile()
    profile.wrap_http()
    profile.wrap_broker()
    profile.wrap_copy()
    profiler = cProfile.Profile() if args.cprofile else None
    with database.execute_wrapper(profile.sql_wrapper):
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        result = reconcile(connection)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    report = profile.report(elapsed, args.top)
    report["pass_cpu_s"] = cpu  # this process's CPU in the pass, all threads: less at the mercy of the load
    report["result"] = {k: v for k, v in result.items() if k != "message"}
    report["message"] = result.get("message", "")
    if result.get("status") != "succeeded":
        raise SystemExit(f"the pass did not succeed: {result}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)  # where the time itself goes
        Path(args.cprofile).write_text(out.getvalue())
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p_setup = commands.add_parser("setup")
    p_setup.add_argument("--url", required=True)
    p_setup.add_argument("--projects", type=int, default=20)
    p_pass = commands.add_parser("reconcile")
    p_pass.add_argument("--url", required=True)
    p_pass.add_argument("--top", type=int, default=15, help="statements in the profile")
    p_pass.add_argument("--cprofile", default="", help="also write cProfile's top functions here (slows the pass)")
    for sub in (p_setup, p_pass):
        sub.add_argument("--out", required=True)
    args = parser.parse_args()
    if WEBHOOK_SECRET_ENV not in os.environ:
        raise SystemExit(f"{WEBHOOK_SECRET_ENV} must be set (the harness does)")
    report = setup(args) if args.command == "setup" else reconcile_pass(args)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
