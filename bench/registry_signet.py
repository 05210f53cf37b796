"""Signet's side of bench/registry_scale.py: the run's tokens and ids, and the in-process profile of each operation.

    <signet-root>/.venv/bin/python bench/registry_signet.py setup --out setup.json
    <signet-root>/.venv/bin/python bench/registry_signet.py profile --requests ops.json --out profile.json

Run by the harness with the code of ``--signet-root`` first on the path (the checkout measured), with
the same production settings as its gunicorn (DEBUG off), on the run's database.

``setup`` makes an API token for ``bench-viewer`` (reads) and ``bench-writer`` (writes) through the
accounts service and lists what the load client picks from: the models, versions and reviews the
viewer may see, and the projects it sees and does not see.

``profile`` sends each request once unmeasured, then once measured, through Django's test client in
this process: statements counted with ``CaptureQueriesContext``, each timed with an execute wrapper,
grouped by text (parameters and repeated VALUES / IN lists folded); the time of the request less its
SQL is "the rest" (Python: views, serializers, templates).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, os.environ.get("SIGNET_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent))

import django

django.setup()

from django.db import connection  # noqa: E402 - after django.setup(), as every import of Signet below
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.accounts.services import api_token_create  # noqa: E402
from apps.projects.models import Project  # noqa: E402
from apps.registry.models import ModelVersion, RegisteredModel  # noqa: E402
from apps.workflows.models import Review  # noqa: E402

_VALUES = re.compile(r"\((?:%s, )*%s\)(?:, \((?:%s, )*%s\))+")
_IN_LIST = re.compile(r"IN \((?:%s, )*%s\)")
SAMPLE_VERSIONS = 3000


def setup() -> dict[str, Any]:
    viewer = User.objects.get(username="bench-viewer")
    writer = User.objects.get(username="bench-writer")
    _, read_token = api_token_create(actor=viewer, user=viewer, name="bench reads")
    _, write_token = api_token_create(actor=writer, user=writer, name="bench writes")
    visible = list(Project.objects.visible_to(viewer).order_by("slug").values_list("pk", "slug"))
    hidden = list(Project.objects.exclude(pk__in=[pk for pk, _ in visible]).values_list("slug", flat=True))
    models = list(
        RegisteredModel.objects.filter(project__in=[pk for pk, _ in visible]).order_by("pk").values_list("pk", "name")
    )
    versions = list(
        ModelVersion.objects.filter(model__project__in=[pk for pk, _ in visible])
        .order_by("?")
        .values_list("pk", "model__name", "number")[:SAMPLE_VERSIONS]
    )
    reviews = list(Review.objects.filter(version__model__project__in=[pk for pk, _ in visible]).values_list("pk"))
    writable = list(
        RegisteredModel.objects.filter(project__in=Project.objects.visible_to(writer).filter(memberships__user=writer))
        .values_list("pk", "name")
        .distinct()
    )
    return {
        "read_token": read_token,
        "write_token": write_token,
        "projects": [slug for _, slug in visible],
        "hidden_projects": hidden,
        "models": models,
        "versions": versions,
        "reviews": [pk for (pk,) in reviews],
        "writable_models": writable,
    }


class Timer:
    """Every statement's time, grouped by its folded text."""

    def __init__(self) -> None:
        self.total = 0.0
        self.by_sql: dict[str, list[float]] = {}

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.total += elapsed
            key = _IN_LIST.sub("IN (…)", _VALUES.sub("(…), …", sql))
            entry = self.by_sql.setdefault(key, [0, 0.0])
            entry[0] += 1
            entry[1] += elapsed


def send(client: Client, request: dict[str, Any]) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {request['token']}"} if request.get("token") else {}
    if request["method"] == "POST":
        return client.post(request["path"], request["body"], content_type="application/json", **headers)
    return client.get(request["path"], **headers)


def profile(requests: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    clients: dict[str, Client] = {}
    results = []
    for request in requests:
        user = request.get("user") or ""
        if user not in clients:
            clients[user] = Client(raise_request_exception=False)
            if user:
                clients[user].force_login(User.objects.get(username=user))
        client = clients[user]
        send(client, request)  # unmeasured: templates compiled, caches warm, as in a long-lived worker
        timer = Timer()
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
            started = time.perf_counter()
            response = send(client, request)
            _ = response.content
            elapsed = time.perf_counter() - started
        statements = sorted(timer.by_sql.items(), key=lambda item: -item[1][1])
        results.append(
            {
                "op": request["op"],
                "path": request["path"],
                "status": response.status_code,
                "bytes": len(response.content),
                "total_s": elapsed,
                "sql_s": timer.total,
                "rest_s": max(0.0, elapsed - timer.total),
                "queries": len(captured.captured_queries),
                "top_sql": [{"calls": int(v[0]), "s": v[1], "sql": k[:600]} for k, v in statements[:top]],
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p_setup = commands.add_parser("setup")
    p_profile = commands.add_parser("profile")
    p_profile.add_argument("--requests", required=True, help="JSON list of {op, method, path, user|token, body}")
    p_profile.add_argument("--top", type=int, default=5)
    for sub in (p_setup, p_profile):
        sub.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.command == "setup":
        report: Any = setup()
    else:
        report = profile(json.loads(Path(args.requests).read_text()), args.top)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
