"""The one way past the TRUNCATE guard, and it lives here, in the test suite, not in a migration.

Django empties its test databases with TRUNCATE between transactional tests. The migrations install
a guard with no switch (audit.0004); after the test databases are created, ``django_db_setup`` in
tests/conftest.py replaces that guard, in those throw-away databases only, with a variant that lets
the session setting ``signet.allow_truncate = on`` through. No code under apps/ or portal/ can
install it, so no production database has the switch, whatever its name.
"""

from __future__ import annotations

from django.db import connections

PERMISSIVE_TRUNCATE_GUARD = """
CREATE OR REPLACE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('signet.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def allow_truncate_in_test_databases() -> None:
    """Install the switch-aware guard in every PostgreSQL test database of this run."""
    for connection in connections.all():
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            (name,) = cursor.fetchone()
            # Only ever a database the test runner made for itself (pytest-django names them test_*).
            assert name.startswith("test_"), f"refusing to lift the TRUNCATE guard in {name}"
            cursor.execute(PERMISSIVE_TRUNCATE_GUARD)
