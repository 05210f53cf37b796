"""audit_record_many writes the events audit_record would, under one lock, or nothing at all."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.accounts.choices import TeamFunction
from apps.accounts.models import User
from apps.audit import selectors
from apps.audit.chain import CHAINED_FIELDS, compute_hash, verify
from apps.audit.models import AuditChainHead, AuditEvent
from apps.audit.services import AuditEntry, audit_record, audit_record_many
from apps.core import bulk, context
from apps.core.choices import AuthMethod
from apps.projects.models import Project
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


def _entries(actor: User, other: User, project: Project) -> list[AuditEntry]:
    """A mix of every argument audit_record takes, including values _clean_json has to normalise."""
    return [
        AuditEntry(actor=actor, action="test.bulk.recorded", data={"i": 0}),
        AuditEntry(actor=None, action="test.bulk.recorded", actor_name="mlflow:prod", data={"i": 1}),
        AuditEntry(
            actor=actor,
            action="test.bulk.recorded",
            target=project,
            project=project,
            changes={"name": {"before": "old\x00name", "after": "new"}},
            data={"when": datetime(2026, 12, 6, 12, 0, 0, 123456, tzinfo=UTC), "amount": Decimal("1.50")},
        ),
        AuditEntry(
            actor=other,
            action="test.bulk.recorded",
            target=other,
            target_repr="x" * 400,
            data={"big": 1e16, "zero": -0.0, "nested": {"list": [1, "two", None, True]}, "é": "ünïcode"},
        ),
        AuditEntry(actor=actor, action="test.bulk.recorded", project=project, actor_name="", data={"i": 4}),
    ]


def _one_by_one(entries: list[AuditEntry]) -> None:
    for entry in entries:
        audit_record(
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            target_repr=entry.target_repr,
            project=entry.project,
            changes=entry.changes,
            data=entry.data,
            actor_name=entry.actor_name,
        )


def _rows_after(seq: int) -> list[dict[str, Any]]:
    return [dict(row) for row in selectors.audit_chain(after_seq=seq)]


def _head_seq() -> int:
    head = selectors.audit_head()
    return head["seq"] if head else 0


@pytest.fixture
def people() -> tuple[User, User, Project]:
    actor = make_user("bulkdev", TeamFunction.DATA_SCIENCE)
    other = make_user("bulkval", TeamFunction.RISK_VALIDATION)
    project = make_project(actor, name="Bulk project")
    return actor, other, project


def test_bulk_events_are_the_events_written_one_by_one(people: tuple[User, User, Project]) -> None:
    actor, other, project = people
    entries = _entries(actor, other, project)
    token = context.bind(request_id="req-bulk-1", ip="192.0.2.7", auth_method=AuthMethod.TOKEN)
    try:
        start = _head_seq()
        with transaction.atomic():  # a savepoint undone: the audit tables refuse DELETE
            _one_by_one(entries)
            one_by_one = _rows_after(start)
            transaction.set_rollback(True)
        assert _head_seq() == start  # the savepoint took them back
        events = audit_record_many(entries)
    finally:
        context.reset(token)
    bulk = _rows_after(start)

    assert [event.seq for event in events] == [row["seq"] for row in bulk] == list(range(start + 1, start + 6))
    assert [event.hash for event in events] == [row["hash"] for row in bulk]
    # Every chained field is the same but the moment each was written...
    for single, many in zip(one_by_one, bulk, strict=True):
        for name in CHAINED_FIELDS:
            if name != "occurred_at":
                assert single[name] == many[name], name
    assert bulk[0]["auth_method"] == AuthMethod.TOKEN
    assert bulk[0]["request_id"] == "req-bulk-1"
    assert bulk[0]["actor_roles"] == one_by_one[0]["actor_roles"] != []
    # ...and with those moments, the one-by-one events hash to exactly the bulk events' hashes.
    prev_hash = one_by_one[0]["prev_hash"]
    assert bulk[0]["prev_hash"] == prev_hash
    for single, many in zip(one_by_one, bulk, strict=True):
        digest = compute_hash(prev_hash, {**single, "occurred_at": many["occurred_at"]})
        assert digest == many["hash"]
        assert many["prev_hash"] == prev_hash
        prev_hash = digest
    # The recorded head moved once, to the last event.
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (events[-1].seq, events[-1].hash)


def test_chain_of_bulk_and_single_events_verifies(people: tuple[User, User, Project]) -> None:
    actor, other, project = people
    audit_record(actor=actor, action="test.bulk.recorded", data={"before": True})
    audit_record_many(_entries(actor, other, project) * 3, batch_size=4)
    audit_record(actor=None, action="test.bulk.recorded", data={"after": True})
    result = verify(selectors.audit_chain())
    assert result.ok, result.reason
    assert result.checked == AuditEvent.objects.count()
    out = StringIO()
    call_command("audit_verify", stdout=out)  # raises CommandError when the chain or its head is broken
    assert f"audit chain intact: {result.checked} events" in out.getvalue()


def test_unknown_action_anywhere_refuses_the_whole_batch_before_writing(people: tuple[User, User, Project]) -> None:
    actor, other, project = people
    audit_record(actor=None, action="test.bulk.recorded")
    before = (AuditEvent.objects.count(), AuditChainHead.objects.get(pk=1).hash)
    entries = [*_entries(actor, other, project), AuditEntry(actor=actor, action="integrations.model.frobnicated")]
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValueError, match="not in the catalogue"):
        audit_record_many(entries)
    assert not [q for q in queries.captured_queries if "INSERT" in q["sql"] or "advisory" in q["sql"]]
    assert (AuditEvent.objects.count(), AuditChainHead.objects.get(pk=1).hash) == before


@pytest.mark.parametrize("bad", [{"x": object()}, {"x": math.nan}, {"x": math.inf}])
def test_data_that_is_not_json_refuses_the_whole_batch(people: tuple[User, User, Project], bad: dict[str, Any]) -> None:
    actor, other, project = people
    before = AuditEvent.objects.count()
    with pytest.raises((ValueError, TypeError)):
        audit_record_many([*_entries(actor, other, project), AuditEntry(actor=None, action="test.bulk.x", data=bad)])
    assert AuditEvent.objects.count() == before


def test_nothing_to_write_takes_no_lock_and_writes_nothing() -> None:
    with CaptureQueriesContext(connection) as queries:
        assert audit_record_many([]) == []
    assert queries.captured_queries == []


def test_bulk_events_roll_back_with_the_callers_transaction(people: tuple[User, User, Project]) -> None:
    actor, other, project = people
    start = _head_seq()
    with transaction.atomic():
        audit_record_many(_entries(actor, other, project))
        assert _head_seq() == start + 5
        transaction.set_rollback(True)  # as a caller's failure after the events would
    assert _head_seq() == start
    assert AuditEvent.objects.filter(seq__gt=start).count() == 0


def test_bulk_costs_a_few_statements_whatever_the_number_of_events(people: tuple[User, User, Project]) -> None:
    actor, other, _ = people
    entries = [AuditEntry(actor=(actor, other)[i % 2], action="test.bulk.recorded", data={"i": i}) for i in range(25)]
    with CaptureQueriesContext(connection) as queries:
        audit_record_many(entries, batch_size=10)
    # PostgreSQL: the 25 ids in one statement, then one COPY (which Django's query log does not show).
    assert not [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "audit_auditevent"')]
    assert len([q for q in queries.captured_queries if "nextval" in q["sql"]]) == 1
    # Two role snapshots (one per actor), the lock, the head, the ids, the head's update.
    assert len(queries.captured_queries) == 2 + 1 + 1 + 1 + 1 + 2  # + the savepoint and its release
    assert AuditEvent.objects.filter(seq__gt=_head_seq() - 25).count() == 25


def test_without_copy_the_events_go_in_batch_size_at_a_time(
    people: tuple[User, User, Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path of other databases (SQLite): bulk_create, batch_size rows an INSERT."""
    monkeypatch.setattr(bulk, "_copy", lambda objs, using: False)
    actor, other, _ = people
    entries = [AuditEntry(actor=(actor, other)[i % 2], action="test.bulk.recorded", data={"i": i}) for i in range(25)]
    with CaptureQueriesContext(connection) as queries:
        audit_record_many(entries, batch_size=10)
    inserts = [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "audit_auditevent"')]
    assert len(inserts) == 3  # 10 + 10 + 5
    assert verify(selectors.audit_chain()).ok


@pytest.mark.parametrize("copy", [True, False], ids=["copy", "bulk_create"])
def test_both_writers_store_the_events_audit_record_stores(
    people: tuple[User, User, Project], monkeypatch: pytest.MonkeyPatch, copy: bool
) -> None:
    """Field by field, COPY and bulk_create store what audit_record stores (text with separators, quotes,
    backslashes, newlines, a \\N, non-ASCII; nested JSON), and the chain verifies."""
    if not copy:
        monkeypatch.setattr(bulk, "_copy", lambda objs, using: False)
    actor, other, project = people
    awkward = 'a,b;"quoted" \\N back\\slash\ttab\nnew line\r\n\\. é 中'
    entries = [
        *_entries(actor, other, project),
        AuditEntry(
            actor=actor,
            action="test.bulk.recorded",
            target_repr=awkward,
            actor_name=awkward,
            data={awkward: [awkward, {"k": awkward}]},
        ),
        AuditEntry(actor=None, action="test.bulk.recorded", actor_name="\\N", target_repr="", data={}),
    ]
    start = _head_seq()
    with transaction.atomic():
        _one_by_one(entries)
        one_by_one = _rows_after(start)
        transaction.set_rollback(True)
    audit_record_many(entries)
    bulk_rows = _rows_after(start)
    assert len(bulk_rows) == len(one_by_one) == len(entries)
    for single, many in zip(one_by_one, bulk_rows, strict=True):
        for name in CHAINED_FIELDS:
            if name != "occurred_at":
                assert single[name] == many[name], name
    assert bulk_rows[-2]["target_repr"] == awkward
    assert bulk_rows[-1]["actor_name"] == "\\N"
    result = verify(selectors.audit_chain())
    assert result.ok, result.reason


@pytest.mark.django_db(databases=["default", "sqlite"])
def test_on_sqlite_the_events_go_in_by_bulk_create_and_the_chain_verifies() -> None:
    """The embedded default (SQLite) has no COPY: the same events through bulk_create."""
    entries = [
        AuditEntry(actor=None, action="test.bulk.recorded", actor_name='a,"b"\\N\n', data={"i": i, "x": [1.0, "é"]})
        for i in range(7)
    ]
    with transaction.atomic(using="sqlite"):
        with CaptureQueriesContext(connections["sqlite"]) as queries:
            events = audit_record_many(entries, using="sqlite", batch_size=5)
        assert len([q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "audit_auditevent"')]) == 2
        assert all(event.pk for event in events)
        rows = list(selectors.audit_chain(using="sqlite"))[-7:]
        assert [row["data"] for row in rows] == [{"i": i, "x": [1, "é"]} for i in range(7)]
        assert rows[0]["actor_name"] == 'a,"b"\\N\n'
        result = verify(selectors.audit_chain(using="sqlite"))
        assert result.ok, result.reason
        transaction.set_rollback(True)
