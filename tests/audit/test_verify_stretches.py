"""The walk in stretches by worker processes gives exactly the plain walk's answer, intact or broken."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from apps.audit import selectors
from apps.audit.chain import Checkpoint, compute_hash, verify
from apps.audit.services import AuditEntry, audit_record_many
from apps.audit.stretches import stretches_of, verify_in_stretches

pytestmark = pytest.mark.django_db(transaction=True)

SIZE = 7  # events per stretch: a trail of 45 makes 7 stretches, walked by 3 workers


def _trail(n: int = 45) -> None:
    audit_record_many(AuditEntry(actor=None, action="test.event.recorded", data={"i": i}) for i in range(n))


def _tamper(sql: str, params: list[int | str]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # lift the append-only triggers
        cursor.execute(sql, params)


def _both(anchors: list[Checkpoint] | None = None) -> tuple[object, object]:
    anchors = anchors or []
    plain = verify(selectors.audit_chain(batch_size=5), anchors)
    walked = verify_in_stretches(using="default", anchors=anchors, event_check=None, batch_size=5, workers=3, size=SIZE)
    return plain, walked


def test_stretches_cover_the_chain_and_the_last_is_open_ended() -> None:
    assert stretches_of(0, SIZE)[-1].until is None
    pieces = stretches_of(45, SIZE)
    assert [(s.after, s.until) for s in pieces[:2]] == [(0, 7), (7, 14)]
    assert pieces[-1].after == 42
    assert pieces[-1].until is None
    assert all(a.until == b.after for a, b in itertools.pairwise(pieces))


def test_an_intact_trail_gives_the_same_count_and_head() -> None:
    _trail()
    head = selectors.audit_head()
    assert head is not None
    plain, walked = _both([Checkpoint(head["seq"], head["hash"])])
    assert walked == plain
    assert walked.ok  # type: ignore[attr-defined]
    assert walked.checked == head["seq"]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class NotePid:
    """An event check that notes which process looked at each event, and has nothing to say about it."""

    path: Path

    def __call__(self, event: object) -> None:
        with self.path.open("a") as notes:
            notes.write(f"{os.getpid()}\n")


def test_the_stretches_are_walked_by_other_processes(tmp_path: Path) -> None:
    _trail()
    notes = tmp_path / "pids"
    result = verify_in_stretches(
        using="default", anchors=[], event_check=NotePid(notes), batch_size=5, workers=3, size=SIZE
    )
    assert result.ok
    pids = notes.read_text().split()
    assert len(pids) == result.checked  # every event looked at once, none twice
    assert str(os.getpid()) not in pids
    assert len(set(pids)) >= 2


@pytest.mark.parametrize("offset", [0, 1, 3, 6])  # first, inside and last event of a stretch
def test_a_tampered_event_is_named_as_the_plain_walk_names_it(offset: int) -> None:
    _trail()
    seq = 2 * SIZE + 1 + offset
    _tamper("UPDATE audit_auditevent SET target_repr = 'mallory' WHERE seq = %s", [seq])
    plain, walked = _both()
    assert walked == plain
    assert walked.broken_seq == seq  # type: ignore[attr-defined]
    assert walked.reason == "its content does not match its hash"  # type: ignore[attr-defined]


def test_a_deleted_event_at_a_join_is_named() -> None:
    _trail()
    _tamper("DELETE FROM audit_auditevent WHERE seq = %s", [3 * SIZE + 1])
    plain, walked = _both()
    assert walked == plain
    assert walked.broken_seq == 3 * SIZE + 1  # type: ignore[attr-defined]
    assert "is missing" in walked.reason  # type: ignore[attr-defined]


def test_a_whole_stretch_emptied_is_named() -> None:
    _trail()
    _tamper("DELETE FROM audit_auditevent WHERE seq > %s AND seq <= %s", [SIZE, 2 * SIZE])
    plain, walked = _both()
    assert walked == plain
    assert not walked.ok  # type: ignore[attr-defined]


def test_a_rechained_tail_that_holds_in_itself_breaks_at_the_join() -> None:
    """Each stretch from the fifth on is consistent in itself; only the join shows the forgery."""
    _trail()
    start = 4 * SIZE + 1
    rows = [row for row in selectors.audit_chain() if row["seq"] >= start]
    previous = "f" * 64
    for row in rows:
        row["prev_hash"], row["hash"] = previous, compute_hash(previous, row)
        _tamper(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s",
            [row["prev_hash"], row["hash"], row["seq"]],
        )
        previous = row["hash"]
    plain, walked = _both()
    assert walked == plain
    assert walked.broken_seq == start  # type: ignore[attr-defined]
    assert walked.reason == "its prev_hash is not the hash of the event before it"  # type: ignore[attr-defined]


def test_a_wrong_checkpoint_inside_a_stretch_is_named() -> None:
    _trail()
    plain, walked = _both([Checkpoint(5 * SIZE + 2, "0" * 64, label="the checkpoint given")])
    assert walked == plain
    assert walked.broken_seq == 5 * SIZE + 2  # type: ignore[attr-defined]
    assert "the checkpoint given" in walked.reason  # type: ignore[attr-defined]


def test_a_checkpoint_beyond_the_end_says_the_chain_was_cut_short() -> None:
    _trail()
    plain, walked = _both([Checkpoint(100, "a" * 64, label="the checkpoint given")])
    assert walked == plain
    assert "cut short" in walked.reason  # type: ignore[attr-defined]


def test_the_command_walks_in_stretches_and_refuses_zero_workers() -> None:
    _trail(120)
    head = selectors.audit_head()
    assert head is not None
    for workers in ("1", "2"):
        out = StringIO()
        call_command("audit_verify", "--workers", workers, "--stretch", "25", "--batch-size", "10", stdout=out)
        assert f"audit chain intact: {head['seq']} events" in out.getvalue()
    _tamper("UPDATE audit_auditevent SET data = '{\"i\": -1}' WHERE seq = %s", [head["seq"] - 3])
    with pytest.raises(CommandError, match=f"broken at seq {head['seq'] - 3}: its content") as caught:
        call_command("audit_verify", "--workers", "2", "--stretch", "25", stdout=StringIO())
    assert caught.value.returncode == 1
    with pytest.raises(CommandError, match="--workers") as refused:
        call_command("audit_verify", "--workers", "0", stdout=StringIO())
    assert refused.value.returncode == 2
