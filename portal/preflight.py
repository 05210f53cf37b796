"""Before the test suite: make sure PostgreSQL and Redis answer, and say how to start them if not.

Run as ``python -m portal.preflight`` (``make test`` does). Creates the database named in
DATABASE_URL when the server answers but the database does not exist yet.
"""

from __future__ import annotations

import os
import sys
from typing import Any
from urllib.parse import urlparse

import psycopg2
import redis
from psycopg2 import sql

HOW_TO_START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
HOW_TO_START_REDIS = "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no"


def check_postgres(url: str) -> str | None:
    parts = urlparse(url)
    name = (parts.path or "/").lstrip("/") or "signet"
    params: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password or None,
        "connect_timeout": 3,
    }
    try:
        conn = psycopg2.connect(dbname="postgres", **params)
    except psycopg2.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        return (
            f"PostgreSQL at {params['host']}:{params['port']} does not answer ({first}).\n"
            f"  Start it with: {HOW_TO_START_POSTGRES}\n  or point DATABASE_URL at a running server."
        )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()
    return None


def check_redis(url: str) -> str | None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return (
            f"Redis at {url} does not answer ({exc}).\n"
            f"  Start it with: {HOW_TO_START_REDIS}\n  or point REDIS_URL at a running server."
        )
    return None


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/signet")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    problems = [p for p in (check_postgres(database_url), check_redis(redis_url)) if p]
    for problem in problems:
        print(f"make test needs {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
