"""Signet's side of the bridge benchmarks: its environment, and PostgreSQL databases of its own.

A migrated *template* database is made once and kept while Signet's migrations are unchanged (the
digest of every migration file is the database's comment); each measured pass that needs an empty
Signet gets a fresh copy of it (``CREATE DATABASE … TEMPLATE``, a file copy: well under a second)
instead of running the migrations again. No Django here: this runs in the harness's process.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
from pathlib import Path

import psycopg2
from psycopg2 import sql

REPO = Path(__file__).resolve().parent.parent
MAIN_PYTHON = REPO / ".venv" / "bin" / "python"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
MARKER = "signet-bench migrations "


def database_url(name: str) -> str:
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def signet_env(database: str, var_dir: Path, *, redis_url: str, cache_url: str) -> dict[str, str]:
    """Production settings (DEBUG off) on ``database``, plain http on 127.0.0.1, a throwaway secret key."""
    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": database_url(database),
        "REDIS_URL": redis_url,
        "CACHE_URL": cache_url,
        "SIGNET_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",  # no mail leaves a bench
    }


def _admin() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(dbname="postgres", **PG)
    conn.autocommit = True
    return conn


def migrations_digest() -> str:
    """SHA-256 over every migration file of Signet (names and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(REPO.glob("apps/*/migrations/*.py")):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _comment(cursor: psycopg2.extensions.cursor, name: str) -> str | None:
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [name],
    )
    row = cursor.fetchone()
    return None if row is None else (row[0] or "")


def _run(*statements: sql.Composable) -> None:
    """Run statements outside any transaction (CREATE and DROP DATABASE refuse one)."""
    conn = _admin()
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


def drop(name: str) -> None:
    _run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def ensure_template(name: str, env: dict[str, str]) -> bool:
    """Make ``name`` a migrated Signet database unless it already is for these migrations; True if made."""
    marker = MARKER + migrations_digest()
    conn = _admin()
    try:
        with conn.cursor() as cursor:
            if _comment(cursor, name) == marker:
                return False
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        migrate = [str(MAIN_PYTHON), str(REPO / "manage.py"), "migrate", "--noinput", "-v", "0"]
        subprocess.run(  # noqa: S603 - our own fixed command
            migrate, cwd=REPO, env={**os.environ, **env, "DATABASE_URL": database_url(name)}, check=True
        )
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("COMMENT ON DATABASE {} IS %s").format(sql.Identifier(name)), [marker])
        return True
    finally:
        conn.close()


def fresh_copy(template: str, name: str) -> None:
    """Replace database ``name`` by a copy of ``template`` (which must have no open connection)."""
    _run(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)),
    )
