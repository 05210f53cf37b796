"""Exports stream: the response is a stream, read in chunks by a server-side cursor, never a list in memory."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.audit.services import AuditEntry, audit_record_many
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_project_export_streams_its_events_in_seq_order(auditor: User, fmt: str) -> None:
    audit_record_many(
        AuditEntry(actor=None, action="test.export.recorded", data={"i": i}, target_repr=f"=x{i}") for i in range(30)
    )
    client = signed_in(auditor)
    response = client.get(f"/audit/export.{fmt}?action=test.export.recorded")
    assert response.status_code == 200
    assert response.streaming
    with CaptureQueriesContext(connection) as captured:
        body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    # The rows are read while the body streams, through one chunked read, not before the response.
    reads = [q["sql"] for q in captured if "audit_auditevent" in q["sql"]]
    assert len(reads) == 1
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body, newline="")))
        assert [r["target_repr"] for r in rows] == [f"'=x{i}" for i in range(30)]  # still formula-safe
    else:
        events = [json.loads(line) for line in body.splitlines()]
        assert [e["data"]["i"] for e in events] == list(range(30))
