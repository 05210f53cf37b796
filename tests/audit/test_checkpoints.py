"""Signed checkpoints and the recorded head catch what one database alone cannot: each attack, one test.

The attacker here has full rights on the database: ``session_replication_role = replica`` lifts every
trigger, as the owner of the tables could. What they do not have is the signing key's file.
"""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from pytest_django.fixtures import SettingsWrapper

from apps.audit import selectors
from apps.audit.chain import GENESIS_HASH, compute_hash, format_time
from apps.audit.models import AuditCheckpoint, AuditEvent
from apps.audit.sealing import audit_checkpoint_sign
from apps.audit.services import audit_record
from apps.audit.signing import key_id, sign
from apps.audit.tasks import audit_checkpoint_sign_task

pytestmark = pytest.mark.django_db


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _record(n: int) -> None:
    for i in range(n):
        audit_record(actor=None, action="test.event.recorded", data={"i": i})


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def _broken(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        _verify(*args)
    assert caught.value.returncode == 1, caught.value
    return str(caught.value)


def _as_attacker() -> None:
    _sql("SET LOCAL session_replication_role = replica")  # every trigger lifted, as the tables' owner can


def _recompute_from(k: int) -> None:
    """Rehash every event from seq k on and move the recorded head along, as a careful attacker would."""
    prev = GENESIS_HASH if k == 1 else AuditEvent.objects.get(seq=k - 1).hash
    for row in selectors.audit_chain(after_seq=k - 1):
        digest = compute_hash(prev, row)
        _sql("UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s", [prev, digest, row["seq"]])
        prev = digest
    _set_head()


def _set_head() -> None:
    head = selectors.audit_head()
    assert head is not None
    _sql("UPDATE audit_auditchainhead SET seq = %s, hash = %s", [head["seq"], head["hash"]])


def _insert_forged(at: int) -> None:
    """Shift events from ``at`` up by one and put a forged one in the gap (hash fixed by _recompute_from)."""
    _sql("UPDATE audit_auditevent SET seq = seq + 1000000 WHERE seq >= %s", [at])
    _sql("UPDATE audit_auditevent SET seq = seq - 999999 WHERE seq > 1000000")
    _sql(
        "INSERT INTO audit_auditevent (seq, occurred_at, actor_id, actor_name, actor_roles, auth_method,"
        " request_id, ip, project_pk, project_slug, target_type, target_id, target_repr, action, changes, data,"
        " prev_hash, hash) VALUES (%s, now(), NULL, 'mallory', '[]', 'system', '', '', NULL, '', '', '', '',"
        " 'registry.model_version.approved', '{}', '{}', %s, %s)",
        [at, "0" * 64, "f" * 64],
    )


@pytest.fixture
def key_file(tmp_path: Path, settings: SettingsWrapper) -> Path:
    private = tmp_path / "audit-signing.key"
    call_command("audit_keygen", str(private), stdout=StringIO())
    settings.AUDIT_SIGNING_KEY_FILE = str(private)
    settings.AUDIT_VERIFY_KEY_FILE = None
    return private


@pytest.fixture
def signed_trail(key_file: Path) -> AuditCheckpoint:
    """Events 1-5, a checkpoint of seq 5 (its event is seq 6), then events 7 and 8."""
    _record(5)
    checkpoint = audit_checkpoint_sign(actor=None)
    assert checkpoint is not None
    assert checkpoint.seq == 5
    _record(2)
    return checkpoint


def test_keygen_writes_a_0600_private_key_and_a_public_key_and_never_overwrites(tmp_path: Path) -> None:
    private = tmp_path / "k"
    out = StringIO()
    call_command("audit_keygen", str(private), stdout=out)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    public = serialization.load_pem_public_key((tmp_path / "k.pub").read_bytes())
    assert isinstance(public, Ed25519PublicKey)
    assert f"key {key_id(public)}" in out.getvalue()
    before = private.read_bytes()
    with pytest.raises(CommandError, match="already exists") as caught:
        call_command("audit_keygen", str(private), stdout=StringIO())
    assert caught.value.returncode == 2
    assert private.read_bytes() == before


def test_a_signing_key_others_can_read_is_refused(key_file: Path) -> None:
    _record(1)
    key_file.chmod(0o644)
    with pytest.raises(ImproperlyConfigured, match="chmod 600"):
        audit_checkpoint_sign(actor=None)
    assert not AuditCheckpoint.objects.exists()


def test_a_checkpoint_anyone_can_check_with_the_public_key_and_the_published_bytes(
    signed_trail: AuditCheckpoint, key_file: Path, settings: SettingsWrapper
) -> None:
    # An independent verifier, from docs/audit.md: canonical JSON of five fields, Ed25519, hex signature.
    message = json.dumps(
        {
            "format": "signet-audit-checkpoint-1",
            "head_hash": AuditEvent.objects.get(seq=5).hash,
            "key_id": signed_trail.key_id,
            "seq": 5,
            "signed_at": format_time(signed_trail.signed_at),
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    public = serialization.load_pem_public_key(Path(f"{key_file}.pub").read_bytes())
    assert isinstance(public, Ed25519PublicKey)
    public.verify(bytes.fromhex(signed_trail.signature), message)  # raises if it does not hold
    event = AuditEvent.objects.get(seq=6)
    assert (event.action, event.data["seq"], event.data["signature"]) == (
        "audit.checkpoint.signed",
        5,
        signed_trail.signature,
    )
    settings.AUDIT_SIGNING_KEY_FILE = None  # a verifier holds the public key only
    settings.AUDIT_VERIFY_KEY_FILE = f"{key_file}.pub"
    assert "audit chain intact: 8 events" in _verify()
    assert "1 signed checkpoints hold" in _verify()


def test_a_forged_event_inserted_before_a_checkpoint_with_the_chain_recomputed_is_caught(
    signed_trail: AuditCheckpoint,
) -> None:
    _as_attacker()
    _insert_forged(at=3)
    _recompute_from(3)
    assert "broken at seq 5: its hash differs from signed checkpoint 5: the chain was recomputed" in _broken()


def test_a_forged_event_appended_past_the_recorded_head_is_caught_and_never_signed(
    signed_trail: AuditCheckpoint, caplog: pytest.LogCaptureFixture
) -> None:
    _as_attacker()
    _insert_forged(at=9)
    _sql("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = 9", [AuditEvent.objects.get(seq=8).hash])
    row = next(selectors.audit_chain(after_seq=8))
    _sql("UPDATE audit_auditevent SET hash = %s WHERE seq = 9", [compute_hash(row["prev_hash"], row)])
    message = _broken()
    assert "broken at seq 9: it lies past the end of the chain (the recorded head is at seq 8)" in message
    with caplog.at_level(logging.ERROR, logger="apps.audit.tasks"):
        outcome = audit_checkpoint_sign_task()
    assert outcome["signed"] is False
    assert "the recorded head (8:" in outcome["reason"]
    assert "audit checkpoint refused" in caplog.text
    assert AuditCheckpoint.objects.count() == 1


def test_a_chain_cut_below_the_last_checkpoint_is_caught_even_with_the_head_rewritten(
    signed_trail: AuditCheckpoint,
) -> None:
    _as_attacker()
    _sql("DELETE FROM audit_auditevent WHERE seq > 3")
    _set_head()
    assert "broken at seq 4: the chain ends at seq 3, before signed checkpoint 5 at seq 5: it was cut short" in (
        _broken()
    )


def test_an_emptied_trail_with_its_head_row_gone_is_caught_by_the_checkpoint(signed_trail: AuditCheckpoint) -> None:
    _as_attacker()
    _sql("DELETE FROM audit_auditevent")
    _sql("DELETE FROM audit_auditchainhead")
    assert "broken at seq 1: the trail is empty, but signed checkpoint 5 says it held 5 events: it was emptied" in (
        _broken()
    )


def _forge_checkpoint(seq: int, signer: Ed25519PrivateKey, claimed_key_id: str) -> None:
    fields = {
        "seq": seq,
        "head_hash": AuditEvent.objects.get(seq=seq).hash,
        "signed_at": "2026-12-01T00:00:00.000000Z",
        "key_id": claimed_key_id,
    }
    _sql("DELETE FROM audit_auditcheckpoint WHERE seq = %s", [seq])
    _sql(
        "INSERT INTO audit_auditcheckpoint (seq, head_hash, signed_at, key_id, signature) VALUES (%s, %s, %s, %s, %s)",
        [seq, fields["head_hash"], fields["signed_at"], claimed_key_id, sign(signer, fields)],
    )


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        (lambda own, real: own, "which is not a verification key"),
        (lambda own, real: real, "its signature does not verify: the checkpoint was forged or altered"),
    ],
    ids=["own-key-id", "real-key-id"],
)
def test_a_checkpoint_forged_with_another_key_over_a_rewritten_chain_is_caught(
    signed_trail: AuditCheckpoint, claim: Callable[[str, str], str], expected: str
) -> None:
    _as_attacker()
    _insert_forged(at=2)
    _recompute_from(2)
    mallory = Ed25519PrivateKey.generate()
    _forge_checkpoint(5, mallory, claim(key_id(mallory.public_key()), signed_trail.key_id))
    message = _broken()
    assert "broken at seq 5: signed checkpoint 5:" in message
    assert expected in message


def test_deleted_checkpoints_are_caught_by_the_event_that_recorded_them(signed_trail: AuditCheckpoint) -> None:
    _as_attacker()
    _sql("DELETE FROM audit_auditcheckpoint")
    assert "broken at seq 6: the checkpoint 5 it records is missing from the checkpoint table" in _broken()


def test_a_wholly_rebuilt_trail_without_its_checkpoints_is_caught_by_the_checkpoint_file(
    key_file: Path,
    settings: SettingsWrapper,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    _record(5)
    with django_capture_on_commit_callbacks(execute=True):
        assert audit_checkpoint_sign(actor=None) is not None
    lines = (tmp_path / "checkpoints.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [5]
    _as_attacker()
    _sql("DELETE FROM audit_auditcheckpoint")
    _sql("DELETE FROM audit_auditevent")
    _sql("DELETE FROM audit_auditchainhead")
    _record(7)  # a new history, every hash right and the head row with it
    assert "audit chain intact: 7 events" in _verify()  # inside one database, nothing can tell
    message = _broken("--checkpoint-file", str(tmp_path / "checkpoints.jsonl"))
    assert "broken at seq 5: signed checkpoint 5 in " in message
    assert "is missing from the checkpoint table: checkpoints were removed" in message


def test_an_unreadable_checkpoint_file_or_no_key_is_exit_2_not_broken(
    signed_trail: AuditCheckpoint, settings: SettingsWrapper, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text('{"seq": 5}\n')
    for args, message in (
        (["--checkpoint-file", str(garbage)], "line 1: not a signed checkpoint"),
        (["--checkpoint-file", str(tmp_path / "absent.jsonl")], "cannot read the checkpoint file"),
    ):
        with pytest.raises(CommandError, match=message) as caught:
            _verify(*args)
        assert caught.value.returncode == 2
    settings.AUDIT_SIGNING_KEY_FILE = None
    with pytest.raises(CommandError, match="signatures of 1 checkpoints were not checked") as caught:
        _verify()
    assert caught.value.returncode == 2


def test_the_beat_task_signs_once_per_change_and_is_scheduled_hourly(key_file: Path, settings: SettingsWrapper) -> None:
    assert settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"] == {
        "task": "apps.audit.tasks.audit_checkpoint_sign",
        "schedule": 3600.0,
    }
    assert audit_checkpoint_sign_task.name == "apps.audit.tasks.audit_checkpoint_sign"
    _record(2)
    first = audit_checkpoint_sign_task()
    assert first == {
        "signed": True,
        "seq": 2,
        "head_hash": AuditEvent.objects.get(seq=2).hash,
        "key_id": AuditCheckpoint.objects.get().key_id,
    }
    event = AuditEvent.objects.get(seq=3)
    assert (event.action, event.auth_method, event.target_type) == (
        "audit.checkpoint.signed",
        "task",
        "audit.auditcheckpoint",
    )
    assert audit_checkpoint_sign_task() == {"signed": False, "reason": "nothing new since the last checkpoint"}
    _record(1)
    assert audit_checkpoint_sign_task()["seq"] == 4
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [2, 4]


def test_without_a_key_the_beat_task_skips_and_says_so(
    settings: SettingsWrapper, caplog: pytest.LogCaptureFixture
) -> None:
    settings.AUDIT_SIGNING_KEY_FILE = None
    _record(1)
    with caplog.at_level(logging.WARNING, logger="apps.audit.tasks"):
        assert audit_checkpoint_sign_task()["signed"] is False
    assert "audit checkpoint skipped: AUDIT_SIGNING_KEY_FILE is not set" in caplog.text
    assert not AuditCheckpoint.objects.exists()
    with pytest.raises(CommandError, match="AUDIT_SIGNING_KEY_FILE is not set") as caught:
        call_command("audit_checkpoint", "--sign", stdout=StringIO())
    assert caught.value.returncode == 2


def test_the_signer_refuses_to_sign_over_an_event_edited_since_the_last_checkpoint(
    signed_trail: AuditCheckpoint,
) -> None:
    _as_attacker()
    _sql("""UPDATE audit_auditevent SET data = '{"i": 99}'::jsonb WHERE seq = 7""")
    with pytest.raises(CommandError, match=r"refused to sign.*broken at seq 7: its content") as caught:
        call_command("audit_checkpoint", "--sign", stdout=StringIO())
    assert caught.value.returncode == 1
    assert AuditCheckpoint.objects.count() == 1


def test_after_a_key_rotation_both_keys_verify_and_the_new_key_signs_on(
    signed_trail: AuditCheckpoint, key_file: Path, settings: SettingsWrapper, tmp_path: Path
) -> None:
    new_key = tmp_path / "rotated.key"
    call_command("audit_keygen", str(new_key), stdout=StringIO())
    both = tmp_path / "verify-keys.pem"
    both.write_bytes(Path(f"{key_file}.pub").read_bytes() + Path(f"{new_key}.pub").read_bytes())
    settings.AUDIT_SIGNING_KEY_FILE = str(new_key)
    settings.AUDIT_VERIFY_KEY_FILE = str(both)
    second = audit_checkpoint_sign(actor=None)
    assert second is not None
    assert second.key_id != signed_trail.key_id
    assert "2 signed checkpoints hold" in _verify()
    settings.AUDIT_VERIFY_KEY_FILE = f"{new_key}.pub"  # the old public key forgotten: its checkpoint is suspect
    assert "signed checkpoint 5: it names key" in _broken()
