"""Signed checkpoints and the stored chain head; TRUNCATE refused with no way around it.

0003 let a session setting (``signet.allow_truncate``) lift the TRUNCATE guard, and any role allowed
to TRUNCATE could set it. Here the guard has no switch: the test suite installs its own permissive
variant into its throw-away test databases only (tests/audit/testdb.py), never through a migration.
The checkpoint table is append-only like the events; the chain head row cannot be deleted or moved
backwards. Each CREATE below matches a DROP in ``_POSTGRES_DOWN`` / ``_SQLITE_DOWN``.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

_POSTGRES_UP = """
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_refuse_truncate();
CREATE OR REPLACE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION audit_chainhead_forward_only() RETURNS trigger AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.seq < OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash) THEN
        RAISE EXCEPTION 'audit_auditchainhead only moves forward: UPDATE from seq % to % refused', OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_auditcheckpoint_no_truncate BEFORE TRUNCATE ON audit_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_auditchainhead_no_truncate BEFORE TRUNCATE ON audit_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_auditcheckpoint_no_update BEFORE UPDATE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_auditcheckpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_auditchainhead_no_delete BEFORE DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_auditchainhead_forward_only BEFORE UPDATE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chainhead_forward_only();
"""
# Back to 0003 exactly, switch included: that is what 0003 was.
_POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS audit_auditchainhead_forward_only ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_auditchainhead_no_delete ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_auditcheckpoint_no_delete ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_auditcheckpoint_no_update ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_auditchainhead_no_truncate ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_auditcheckpoint_no_truncate ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_chainhead_forward_only();
DROP FUNCTION IF EXISTS audit_refuse_change();
DROP FUNCTION IF EXISTS audit_refuse_truncate();
CREATE OR REPLACE FUNCTION audit_auditevent_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('signet.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_refuse_truncate();
"""
_SQLITE_UP = [
    """CREATE TRIGGER audit_auditcheckpoint_no_update BEFORE UPDATE ON audit_auditcheckpoint
       BEGIN SELECT RAISE(ABORT, 'audit_auditcheckpoint is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_auditcheckpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
       BEGIN SELECT RAISE(ABORT, 'audit_auditcheckpoint is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_auditchainhead_no_delete BEFORE DELETE ON audit_auditchainhead
       BEGIN SELECT RAISE(ABORT, 'audit_auditchainhead is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_auditchainhead_forward_only BEFORE UPDATE ON audit_auditchainhead
       WHEN NEW.id <> OLD.id OR NEW.seq < OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash)
       BEGIN SELECT RAISE(ABORT, 'audit_auditchainhead only moves forward: UPDATE refused'); END""",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_auditchainhead_forward_only",
    "DROP TRIGGER IF EXISTS audit_auditchainhead_no_delete",
    "DROP TRIGGER IF EXISTS audit_auditcheckpoint_no_delete",
    "DROP TRIGGER IF EXISTS audit_auditcheckpoint_no_update",
]
# An existing trail gets its head row from its newest event, before anything can move it.
_HEAD_FROM_EVENTS = (
    "INSERT INTO audit_auditchainhead (id, seq, hash)"
    " SELECT 1, seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1"
)


def _run(schema_editor: Any, postgres: str, sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgres, params=None)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement, params=None)
    else:
        raise RuntimeError(f"Signet's audit trail supports PostgreSQL and SQLite, not {vendor}")


def forwards(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(_HEAD_FROM_EVENTS, params=None)
    _run(schema_editor, _POSTGRES_UP, _SQLITE_UP)


def backwards(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, _POSTGRES_DOWN, _SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_refuse_truncate")]

    operations = [
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "seq",
                    models.PositiveBigIntegerField(help_text="Seq of the event the checkpoint covers.", unique=True),
                ),
                ("head_hash", models.CharField(max_length=64)),
                ("signed_at", models.DateTimeField()),
                (
                    "key_id",
                    models.CharField(help_text="First 16 hex digits of SHA-256 of the public key.", max_length=16),
                ),
                ("signature", models.CharField(help_text="Ed25519 signature, hex.", max_length=128)),
            ],
            options={"ordering": ["seq"]},
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("seq", models.PositiveBigIntegerField(help_text="Seq of the newest event: the number of events.")),
                ("hash", models.CharField(max_length=64)),
            ],
            options={
                "constraints": [models.CheckConstraint(condition=models.Q(("id", 1)), name="audit_chainhead_one_row")],
            },
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
