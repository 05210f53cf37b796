"""The chain detects every kind of tampering and names the first bad event."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.audit import selectors, values
from apps.audit.chain import GENESIS_HASH, Checkpoint, canonical_json, compute_hash, verify
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record

pytestmark = pytest.mark.django_db


def _make_chain(n: int) -> str:
    for i in range(n):
        audit_record(actor=None, action="test.event.recorded", data={"i": i, "text": f"event {i}"})
    head = selectors.audit_head()
    assert head is not None
    return f"{head['seq']}:{head['hash']}"


def _run_verify(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _row(seq: int) -> dict[str, object]:
    return next(r for r in selectors.audit_chain() if r["seq"] == seq)


def _rehash(seq: int, prev_hash: str) -> str:
    row = _row(seq)
    new_hash = compute_hash(prev_hash, row)
    _sql("UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s", [prev_hash, new_hash, seq])
    return new_hash


def _edit(n: int, k: int) -> int:
    _sql("""UPDATE audit_auditevent SET data = '{"i": -1}'::jsonb WHERE seq = %s""", [k])
    return k


def _edit_relinked(n: int, k: int) -> int:
    _sql("""UPDATE audit_auditevent SET actor_name = 'mallory' WHERE seq = %s""", [k])
    _rehash(k, str(_row(k)["prev_hash"]))
    return k + 1 if k < n else n  # the last one is caught by the checkpoint


def _delete(n: int, k: int) -> int:
    _sql("DELETE FROM audit_auditevent WHERE seq = %s", [k])
    return k


def _insert(n: int, k: int) -> int:
    _sql("UPDATE audit_auditevent SET seq = seq + 1000000 WHERE seq >= %s", [k])
    _sql("UPDATE audit_auditevent SET seq = seq - 999999 WHERE seq > 1000000")
    prev = GENESIS_HASH if k == 1 else str(_row(k - 1)["hash"])
    _sql(
        "INSERT INTO audit_auditevent (seq, occurred_at, actor_id, actor_name, actor_roles, auth_method,"
        " request_id, ip, project_pk, project_slug, target_type, target_id, target_repr, action, changes, data,"
        " prev_hash, hash)"
        " VALUES (%s, now(), NULL, '', '[]', 'system', '', '', NULL, '', '', '', '', 'test.event.forged', '{}',"
        " '{\"forged\": true}', %s, %s)",
        [k, prev, "f" * 64],
    )
    _rehash(k, prev)  # the forged row is self-consistent and links to its predecessor ...
    # ... but the original that follows it does not link to it; at the checkpoint's seq the hash differs.
    return k + 1 if k < n else n


def _swap(n: int, k: int) -> int:
    j = n if k != n else 1
    i, j = min(k, j), max(k, j)
    if i == j:
        return _edit(n, k)
    _sql("UPDATE audit_auditevent SET seq = 999999 WHERE seq = %s", [i])
    _sql("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [i, j])
    _sql("UPDATE audit_auditevent SET seq = %s WHERE seq = 999999", [j])
    return i


def _recompute_from(n: int, k: int) -> int:
    _sql("""UPDATE audit_auditevent SET data = '{"rewritten": true}'::jsonb WHERE seq = %s""", [k])
    prev = GENESIS_HASH if k == 1 else str(_row(k - 1)["hash"])
    for seq in range(k, n + 1):
        prev = _rehash(seq, prev)
    # A wholly recomputed tail verifies on its own: only the checkpoint can tell.
    assert verify(selectors.audit_chain()).ok
    return n


TAMPERS = {
    "edit": _edit,
    "edit_relinked": _edit_relinked,
    "delete": _delete,
    "insert": _insert,
    "swap": _swap,
    "recompute_from": _recompute_from,
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=2, max_value=9), name=st.sampled_from(sorted(TAMPERS)), data=st.data())
def test_every_tampering_is_detected_at_the_first_bad_seq(n: int, name: str, data: st.DataObject) -> None:
    with transaction.atomic():
        assert AuditEvent.objects.count() == 0
        checkpoint = _make_chain(n)
        assert "intact" in _run_verify("--checkpoint", checkpoint)
        k = data.draw(st.integers(min_value=1, max_value=n), label="k")
        _sql("SET LOCAL session_replication_role = replica")  # lifts the append-only triggers
        expected = TAMPERS[name](n, k)
        with pytest.raises(CommandError) as caught:
            _run_verify("--checkpoint", checkpoint)
        assert caught.value.returncode == 1
        assert f"broken at seq {expected}:" in str(caught.value)
        transaction.set_rollback(True)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "\ud800", "\u2028"]), max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
EXTRA_VALUES = st.sampled_from(
    [Decimal("1.10"), datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), uuid.UUID(int=7), date(2026, 5, 6)]
)


@pytest.mark.django_db(databases=["default", "sqlite"])
@pytest.mark.parametrize("alias", ["default", "sqlite"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payloads=st.lists(
        st.dictionaries(st.text(max_size=8), JSON_VALUES | EXTRA_VALUES, max_size=4), min_size=1, max_size=5
    )
)
def test_clean_chains_always_verify_after_a_round_trip(alias: str, payloads: list[dict[str, Any]]) -> None:
    with transaction.atomic(using=alias):
        for payload in payloads:
            audit_record(actor=None, action="test.payload.recorded", data=payload, changes={"v": payload}, using=alias)
        head = selectors.audit_head(using=alias)
        assert head is not None
        result = verify(selectors.audit_chain(using=alias), Checkpoint(head["seq"], head["hash"]))
        assert result.ok, result.reason
        assert result.checked == head["seq"]
        transaction.set_rollback(True)


def test_canonical_json_and_hash_match_the_published_definition() -> None:
    event = {
        "seq": 1,
        "occurred_at": datetime(2026, 11, 26, 9, 5, 3, 120, tzinfo=UTC),
        "actor_id": None,
        "actor_name": "",
        "actor_roles": [],
        "auth_method": "system",
        "request_id": "",
        "ip": "",
        "project_pk": None,
        "project_slug": "",
        "target_type": "",
        "target_id": "",
        "target_repr": "Zoë",
        "action": "test.first.recorded",
        "changes": {},
        "data": {"b": 1, "a": [2.5, None]},
    }
    expected = (
        '{"action":"test.first.recorded","actor_id":null,"actor_name":"","actor_roles":[],"auth_method":"system",'
        '"changes":{},"data":{"a":[2.5,null],"b":1},"ip":"","occurred_at":"2026-11-26T09:05:03.000120Z",'
        '"project_pk":null,"project_slug":"","request_id":"","seq":1,"target_id":"","target_repr":"Zoë",'
        '"target_type":""}'
    ).encode()
    assert canonical_json(event) == expected
    assert compute_hash("0" * 64, event) == hashlib.sha256(bytes(32) + expected).hexdigest()


def test_stored_events_hash_as_sha256_of_previous_hash_and_canonical_json() -> None:
    audit_record(actor=None, action="test.first.recorded", data={"b": 1, "a": "é"})
    row = _row(1)
    body = canonical_json(row)
    assert b" " not in body.replace(b"test first", b"")
    assert body.index(b'"action"') < body.index(b'"data"')  # sorted keys
    assert "é".encode() in body  # UTF-8, not \\u escapes
    assert row["prev_hash"] == "0" * 64
    assert row["hash"] == hashlib.sha256(bytes(32) + body).hexdigest()


def test_verify_names_a_checkpoint_beyond_the_chain_as_cut_short() -> None:
    checkpoint = _make_chain(3)
    _seq, digest = checkpoint.split(":")
    with pytest.raises(CommandError, match="cut short") as caught:
        _run_verify("--checkpoint", f"5:{digest}")
    assert caught.value.returncode == 1
    assert "broken at seq 4" in str(caught.value)


@pytest.mark.parametrize(
    "bad", ["abc", "0:" + "a" * 64, "3:xyz", "3:" + "a" * 63, ":", "²:" + "a" * 64, f"{2**63}:" + "a" * 64]
)
def test_a_malformed_checkpoint_is_a_usage_error(bad: str) -> None:
    with pytest.raises(CommandError) as caught:
        _run_verify("--checkpoint", bad)
    assert caught.value.returncode == 2


def test_an_empty_trail_verifies_and_has_no_checkpoint() -> None:
    assert "the trail is empty" in _run_verify()
    with pytest.raises(CommandError, match="empty"):
        call_command("audit_checkpoint")


def test_verify_cannot_check_an_unknown_database_and_says_so_with_exit_2() -> None:
    with pytest.raises(CommandError, match="no database named") as caught:
        _run_verify("--database", "nope")
    assert caught.value.returncode == 2


def test_times_in_event_data_keep_their_microseconds() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    audit_record(actor=None, action="test.time.recorded", data={"when": moment})
    assert AuditEvent.objects.get().data == {"when": "2026-03-04T05:06:07.890123Z"}


def _cut_and_verify(keep: int) -> CommandError:
    _make_chain(4)
    _sql("SET LOCAL session_replication_role = replica")  # the table owner lifts the triggers
    _sql("DELETE FROM audit_auditevent WHERE seq > %s", [keep])
    with pytest.raises(CommandError) as caught:
        _run_verify()
    assert caught.value.returncode == 1
    return caught.value


def test_an_emptied_trail_does_not_verify_while_the_recorded_head_says_events_were_there() -> None:
    assert "broken at seq 1: the trail is empty, but the recorded head says it held 4 events" in str(
        _cut_and_verify(keep=0)
    )


def test_a_trail_cut_short_does_not_verify_while_the_recorded_head_is_further_on() -> None:
    assert "broken at seq 3: the chain ends at seq 2, before the recorded head at seq 4" in str(_cut_and_verify(keep=2))


@settings(max_examples=300, deadline=None)
@given(
    value=st.recursive(
        JSON_VALUES | EXTRA_VALUES, lambda c: st.lists(c, max_size=3).map(tuple) | st.lists(c, max_size=3), max_leaves=6
    )
)
def test_the_quick_clean_gives_what_the_json_text_gives(value: Any) -> None:
    """clean_json walks plain values itself; whatever it is given, it returns what the round trip returns
    (compared by repr: True is not 1, 1 is not 1.0, and the order of keys counts)."""
    for wrapped in (value, {"k": value, "\x00é": [value]}):
        assert repr(values.clean_json(wrapped)) == repr(values.clean_json_text(wrapped))
