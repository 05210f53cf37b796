"""In a database that is not the test suite's, TRUNCATE of the audit tables is refused, switch or not."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg2
import pytest
import pytest_django
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

AUDIT_TABLES = ("audit_auditevent", "audit_auditcheckpoint", "audit_auditchainhead")


@pytest.fixture
def production_like_database(django_db_blocker: pytest_django.DjangoDbBlocker) -> Iterator[BaseDatabaseWrapper]:
    """A fresh PostgreSQL database named like a real one (not ``test_*``), migrated by the real migrations."""
    base = connections["default"].settings_dict
    name = f"signet_scratch_audit_{os.getpid()}"
    admin = psycopg2.connect(
        dbname="postgres", user=base["USER"], password=base["PASSWORD"], host=base["HOST"], port=base["PORT"] or None
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    # A connection alias of its own for the length of the test: some migrations look theirs up by alias.
    connections.settings["production_like"] = {**base, "NAME": name}
    wrapper = connections["production_like"]
    try:
        with django_db_blocker.unblock():
            executor = MigrationExecutor(wrapper)
            executor.migrate(executor.loader.graph.leaf_nodes("audit"))  # every audit migration there is
            yield wrapper
    finally:
        wrapper.close()
        del connections["production_like"]
        del connections.settings["production_like"]
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_outside_the_test_database_truncate_is_refused_even_with_the_old_switch_on(
    production_like_database: BaseDatabaseWrapper,
) -> None:
    with production_like_database.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (seq, occurred_at, actor_name, actor_roles, auth_method, request_id, ip,"
            " project_slug, target_type, target_id, target_repr, action, changes, data, prev_hash, hash)"
            " VALUES (1, now(), '', '[]', 'system', '', '', '', '', '', '', 'test.event.recorded', '{}', '{}', %s, %s)",
            ["0" * 64, "a" * 64],
        )
        cursor.execute("SET signet.allow_truncate = on")
        for table in AUDIT_TABLES:
            with pytest.raises(DatabaseError, match=f"{table} is append-only: TRUNCATE refused"):
                cursor.execute(f"TRUNCATE {table}")
        cursor.execute("SELECT seq FROM audit_auditevent")
        assert cursor.fetchall() == [(1,)]
        # No guard with a way around it is left in the database at all.
        cursor.execute("SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'audit%%'")
        guards = dict(cursor.fetchall())
        assert "audit_auditevent_refuse_truncate" not in guards
        assert all("allow_truncate" not in source for source in guards.values()), guards


def test_outside_the_test_database_the_head_row_cannot_be_deleted_or_moved_back(
    production_like_database: BaseDatabaseWrapper,
) -> None:
    with production_like_database.cursor() as cursor:
        cursor.execute("INSERT INTO audit_auditchainhead (id, seq, hash) VALUES (1, 7, %s)", ["a" * 64])
        for statement in (
            "DELETE FROM audit_auditchainhead",
            "UPDATE audit_auditchainhead SET seq = 0",
            "UPDATE audit_auditchainhead SET hash = 'b'",
        ):
            with pytest.raises(DatabaseError, match="audit_auditchainhead"):
                cursor.execute(statement)
        cursor.execute("UPDATE audit_auditchainhead SET seq = 8, hash = %s", ["c" * 64])  # forward is fine
        cursor.execute("SELECT seq, hash FROM audit_auditchainhead")
        assert cursor.fetchall() == [(8, "c" * 64)]
