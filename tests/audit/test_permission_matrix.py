"""Every audit-trail operation, API and page, for every persona, from one table.

The audit team and administrators read, filter, export and verify the whole trail; everyone else,
project members included, is refused with 403. An export is itself recorded in the trail. The trail
has no page or endpoint per event: an object's history is the list filtered on that object.
"""

from __future__ import annotations

import pytest
from django.db import connection

from apps.audit.models import AuditEvent
from tests.conftest import Org
from tests.matrix import Op, built_once_per_module, cases, check_case, parse_table, tokens_for

TABLE = parse_table(
    """
    operation            owner biz   dev   val   ops   comp  aud   admin out   anon
    api.events           403   403   403   403   403   403   200   200   403   401
    api.events_filtered  403   403   403   403   403   403   200   200   403   401
    api.object_history   403   403   403   403   403   403   200   200   403   401
    api.export_csv       403   403   403   403   403   403   200   200   403   401
    api.export_jsonl     403   403   403   403   403   403   200   200   403   401
    page.events          403   403   403   403   403   403   200   200   403   302x
    page.events_filtered 403   403   403   403   403   403   200   200   403   302x
    page.export_csv      403   403   403   403   403   403   200   200   403   302x
    page.export_jsonl    403   403   403   403   403   403   200   200   403   302x
    page.verify          403   403   403   403   403   403   302   302   403   302x
    page.verification    403   403   403   403   403   403   200   200   403   302x
    """
)


class Audit(Org):
    def __init__(self) -> None:
        super().__init__()
        self.tokens = tokens_for(self)


def _exports(ctx: Audit) -> int:
    return AuditEvent.objects.filter(action="audit.trail.exported").count()


def _history(ctx: Audit) -> dict[str, str | int]:
    return {"target_type": "registry.modelversion", "target_id": ctx.version.pk}


OPS: dict[str, Op] = {
    "api.events": Op("get", lambda c: "/api/v1/audit-events/"),
    "api.events_filtered": Op(
        "get", lambda c: "/api/v1/audit-events/", lambda c: {"project": c.project.slug, "action": "registry."}
    ),
    "api.object_history": Op("get", lambda c: "/api/v1/audit-events/", _history),
    "api.export_csv": Op("get", lambda c: "/api/v1/audit-events/", lambda c: {"format": "csv"}, _exports),
    "api.export_jsonl": Op("get", lambda c: "/api/v1/audit-events/", lambda c: {"format": "jsonl"}, _exports),
    "page.events": Op("get", lambda c: "/audit/"),
    "page.events_filtered": Op("get", lambda c: "/audit/", lambda c: {"project": c.project.slug, **_history(c)}),
    "page.export_csv": Op("get", lambda c: "/audit/export.csv", lambda c: {"action": "registry."}, _exports),
    "page.export_jsonl": Op("get", lambda c: "/audit/export.jsonl", lambda c: {}, _exports),
    # The verification runs in a worker, queued when the request's transaction commits.
    "page.verify": Op("post", lambda c: "/audit/verify/", probe=lambda c: len(connection.run_on_commit)),
    "page.verification": Op("get", lambda c: "/audit/verification/"),
}

audit = built_once_per_module(Audit)


@pytest.fixture
def ctx(audit: Audit, db: None) -> Audit:
    return audit


@pytest.mark.parametrize(("operation", "persona"), cases(TABLE, OPS))
def test_each_persona_gets_what_the_table_says(ctx: Audit, operation: str, persona: str) -> None:
    check_case(ctx, OPS, TABLE, operation, persona)


def test_an_object_history_lists_only_that_objects_events(ctx: Audit) -> None:
    from django.test import Client

    from tests.conftest import bearer

    response = Client(headers=bearer(ctx.tokens["auditor"])).get("/api/v1/audit-events/", _history(ctx))
    events = response.json()["results"]
    assert events, "the version's creation is in its history"
    assert {(e["target_type"], str(e["target_id"])) for e in events} == {("registry.modelversion", str(ctx.version.pk))}
