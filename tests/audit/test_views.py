"""The auditor's page, exports and API: who may read, filters, safe CSV, complete JSON Lines."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.core import context
from tests.conftest import bearer, signed_in

pytestmark = pytest.mark.django_db


def _body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


@pytest.mark.parametrize("persona", ["auditor", "administrator"])
def test_auditors_and_administrators_read_the_trail(persona: str, request: pytest.FixtureRequest) -> None:
    user = request.getfixturevalue(persona)
    response = signed_in(user).get("/audit/")
    assert response.status_code == 200
    assert "accounts.sign_in.succeeded" in response.content.decode()


@pytest.mark.parametrize("persona", ["developer", "validator", "outsider"])
def test_everyone_else_is_refused_the_trail_and_its_exports(persona: str, request: pytest.FixtureRequest) -> None:
    client = signed_in(request.getfixturevalue(persona))
    for path in ("/audit/", "/audit/export.csv", "/audit/export.jsonl", "/audit/verification/"):
        assert client.get(path).status_code == 403, path
    assert client.post("/audit/verify/").status_code == 403
    assert "Audit trail" not in client.get("/").content.decode()


def test_filters_narrow_the_page(auditor: User, developer: User) -> None:
    audit_record(actor=developer, action="test.thing.changed", target_repr="thing one")
    client = signed_in(auditor)
    html = client.get("/audit/?action=test.thing.changed").content.decode()
    assert "thing one" in html
    assert "accounts.sign_in.succeeded" not in html
    html = client.get("/audit/?action=accounts.&actor=aude").content.decode()
    assert "accounts.sign_in.succeeded" in html
    assert "thing one" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [("since=not-a-date", "Enter a valid date/time."), ("since=2026-02-01&until=2026-01-01", "must be after")],
)
def test_bad_filters_are_a_400_with_a_message(auditor: User, query: str, message: str) -> None:
    response = signed_in(auditor).get(f"/audit/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert signed_in(auditor).get(f"/audit/export.csv?{query}").status_code == 400


HOSTILE = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tcmd", "\rcmd", "\uff1d1+1"]


def test_csv_export_neutralises_formulas_in_every_text_column_and_is_audited(auditor: User) -> None:
    for i, text in enumerate(HOSTILE):
        token = context.bind(request_id=f"-req-{i:04d}", ip="", auth_method="system")
        try:
            audit_record(actor=None, actor_name=text, action="test.thing.changed", target_repr=text)
        finally:
            context.reset(token)
    response = signed_in(auditor).get("/audit/export.csv?action=test.thing.changed")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="signet-audit-')
    assert response["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(_body(response), newline="")))
    assert [r["target_repr"] for r in rows] == ["'" + text for text in HOSTILE]
    assert [r["actor_name"] for r in rows] == ["'" + text for text in HOSTILE]
    assert all(r["request_id"].startswith("'-req-") for r in rows)
    dangerous = ("=", "+", "-", "@", "\t", "\r", "\uff1d")
    assert all(not cell.startswith(dangerous) for r in rows for cell in r.values())
    exported = AuditEvent.objects.filter(action="audit.trail.exported").latest("seq")
    assert exported.data == {
        "format": "csv",
        "filters": {"action": "test.thing.changed"},
        "up_to_seq": exported.seq - 1,
    }


def test_jsonl_export_holds_every_matching_event_with_its_hashes(auditor: User) -> None:
    for i in range(5):
        audit_record(actor=None, action="test.bulk.recorded", data={"i": i})
    lines = _body(signed_in(auditor).get("/audit/export.jsonl?action=test.bulk.recorded")).splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["data"]["i"] for e in events] == [0, 1, 2, 3, 4]
    stored = {e.seq: e.hash for e in AuditEvent.objects.filter(action="test.bulk.recorded")}
    assert {e["seq"]: e["hash"] for e in events} == stored


def test_the_api_lists_newest_first_with_cursor_pages_and_filters(auditor: User, token_for) -> None:
    raw = token_for(auditor)
    for i in range(7):
        audit_record(actor=None, action="test.page.recorded", data={"i": i})
    client = Client()
    first = client.get("/api/v1/audit-events/?action=test.page.recorded&page_size=3", headers=bearer(raw)).json()
    assert [e["data"]["i"] for e in first["results"]] == [6, 5, 4]
    second = client.get(first["next"], headers=bearer(raw)).json()
    assert [e["data"]["i"] for e in second["results"]] == [3, 2, 1]
    prefix = client.get("/api/v1/audit-events/?action=accounts.", headers=bearer(raw)).json()
    assert prefix["results"]
    assert all(e["action"].startswith("accounts.") for e in prefix["results"])


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_api_streams_exports(auditor: User, token_for, fmt: str) -> None:
    audit_record(actor=None, action="test.api.exported", data={"x": 1})
    response = Client().get(
        f"/api/v1/audit-events/?format={fmt}&action=test.api.exported", headers=bearer(token_for(auditor))
    )
    assert response.status_code == 200
    body = _body(response)
    assert "test.api.exported" in body
    assert AuditEvent.objects.filter(action="audit.trail.exported", data__format=fmt, auth_method="token").exists()


def test_the_api_refuses_an_unknown_export_format(auditor: User, token_for) -> None:
    response = Client().get("/api/v1/audit-events/?format=xlsx", headers=bearer(token_for(auditor)))
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"format": ["Use json, csv or jsonl."]}


def test_the_page_shows_the_head_to_keep_as_a_checkpoint(auditor: User) -> None:
    client = signed_in(auditor)
    head = AuditEvent.objects.latest("seq")
    assert f"{head.seq}:{head.hash}" in client.get("/audit/verification/").content.decode()


@pytest.mark.parametrize("query", ["since=0001-01-01T00:00:00%2B01:00", "until=9999-12-31T23:59:59-01:00"])
def test_dates_at_the_edge_of_the_calendar_are_a_400_not_a_500(auditor: User, token_for, query: str) -> None:
    client = signed_in(auditor)
    assert client.get(f"/audit/?{query}").status_code == 400
    assert client.get(f"/audit/export.csv?{query}").status_code == 400
    response = Client().get(f"/api/v1/audit-events/?{query}", headers=bearer(token_for(auditor)))
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details == {query.split("=")[0]: ["Enter a date between the years 1 and 9999."]}


def test_jsonl_keeps_one_event_per_line_whatever_the_text(auditor: User) -> None:
    audit_record(actor=None, action="test.text.recorded", target_repr="a\u2028b\u2029c\u0085d\ne")
    lines = _body(signed_in(auditor).get("/audit/export.jsonl?action=test.text.recorded")).splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["target_repr"] == "a\u2028b\u2029c\u0085d\ne"
