"""The base of the persona × operation matrices: one table per app, parsed into one test per cell.

A matrix module writes its table as text, one row per operation and one column per persona
(``owner biz dev val ops comp aud admin out anon``, the personas of ``tests.conftest.Org`` and an
anonymous visitor), each cell the status that persona gets. A cell with ``x`` after the status
(``302x``) is a refusal that still answers with that status (a page that redirects with a message,
or the sign-in redirect): nothing may change. Beside the table, ``OPS`` says how each operation is
called, and optionally ``probe`` reads the state it changes: a successful call must change it,
a refused one must leave it as it was.

The personas and their objects are built once per module (``built_once_per_module``); each case
runs in a savepoint of its own, so what one case writes is gone before the next.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest
import pytest_django
from django.db import transaction
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import Client

from apps.accounts.models import User
from apps.accounts.services import api_token_create
from tests.conftest import PERSONAS, bearer

COLUMNS = {
    "owner": "owner",
    "biz": "business_owner",
    "dev": "developer",
    "val": "validator",
    "ops": "it_ops",
    "comp": "compliance",
    "aud": "auditor",
    "admin": "administrator",
    "out": "outsider",
    "anon": "anonymous",
}
ANONYMOUS = "anonymous"
assert set(COLUMNS.values()) == {*PERSONAS, ANONYMOUS}


class Context(Protocol):
    tokens: dict[str, str]

    def persona(self, name: str) -> User: ...


@dataclass(frozen=True)
class Expect:
    status: int
    refused: bool  # answered with a success status, and yet nothing may change

    @property
    def changes(self) -> bool:
        return self.status < 400 and not self.refused


@dataclass(frozen=True)
class Op:
    """How to call one operation: ``api.*`` rows go through a token, ``page.*`` rows through a session."""

    method: str
    url: Callable[[Any], str]
    data: Callable[[Any], Any] = field(default=lambda ctx: {})
    probe: Callable[[Any], Any] | None = None  # the state the operation changes, read before and after


def parse_table(text: str) -> dict[str, dict[str, Expect]]:
    """``operation  201 403 ...`` rows under a header of persona columns -> {operation: {persona: Expect}}."""
    rows = [line.split() for line in text.strip().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    header, body = rows[0], rows[1:]
    assert header == ["operation", *COLUMNS], f"the header must be: operation {' '.join(COLUMNS)}"
    table: dict[str, dict[str, Expect]] = {}
    for row in body:
        assert len(row) == len(header), f"row {row[0]!r} has {len(row) - 1} cells for {len(COLUMNS)} personas"
        assert row[0] not in table, f"operation {row[0]!r} appears twice"
        table[row[0]] = {
            COLUMNS[column]: Expect(int(cell.rstrip("x")), cell.endswith("x"))
            for column, cell in zip(header[1:], row[1:], strict=True)
        }
    return table


def cases(table: dict[str, dict[str, Expect]], ops: dict[str, Op]) -> list[Any]:
    """One pytest case per cell, named ``operation-persona``; every row has its ``Op`` and vice versa."""
    assert set(table) == set(ops), (
        f"rows without an Op: {set(table) - set(ops)}; Ops without a row: {set(ops) - set(table)}"
    )
    return [
        pytest.param(name, persona, id=f"{name}-{persona}")
        for name, expectations in table.items()
        for persona in expectations
    ]


def tokens_for(ctx: Context) -> dict[str, str]:
    """One API token per persona, made once for the module."""
    return {name: api_token_create(actor=None, user=ctx.persona(name), name="matrix", days=1)[1] for name in PERSONAS}


def _client(ctx: Context, persona: str, *, api: bool) -> Client:
    if persona == ANONYMOUS:
        return Client()
    if api:
        return Client(headers=bearer(ctx.tokens[persona]))
    client = Client()
    client.force_login(ctx.persona(persona))
    return client


def _body(response: HttpResponseBase) -> bytes:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content)  # type: ignore[arg-type]
    return bytes(getattr(response, "content", b""))


ERROR_CODES = {400: "invalid", 401: "not_authenticated", 403: "permission_denied", 404: "not_found"}


def check_case(ctx: Context, ops: dict[str, Op], table: dict[str, dict[str, Expect]], name: str, persona: str) -> None:
    """Call operation ``name`` as ``persona``; assert the table's status, the error shape and the probe."""
    op, expect = ops[name], table[name][persona]
    api = name.startswith("api.")
    client = _client(ctx, persona, api=api)
    before = op.probe(ctx) if op.probe else None
    url, data = op.url(ctx), op.data(ctx)
    send = getattr(client, op.method)
    if op.method == "get":
        response = send(url, data)
    elif api:
        response = send(url, data, content_type="application/json")
    else:
        response = send(url, data)
    body = _body(response)
    where = f"{persona} → {name} ({op.method.upper()} {url})"
    assert response.status_code == expect.status, (
        f"{where}: expected {expect.status}, got {response.status_code}: {body[:500]!r}"
    )
    if api and response.status_code in ERROR_CODES:
        error = response.json()["error"]
        assert error["code"] == ERROR_CODES[response.status_code], f"{where}: error code {error['code']!r}"
        assert error["message"], f"{where}: an error without a message"
    if op.probe is not None:
        after = op.probe(ctx)
        changed = after != before
        assert changed == expect.changes, (
            f"{where}: {'the call should have changed' if expect.changes else 'a refused call changed'} "
            f"the state ({before!r} -> {after!r})"
        )


def built_once_per_module(build: Callable[[], Any]) -> Any:
    """A module-scoped fixture: ``build()`` once, in a transaction rolled back after the module's last test.

    Each test still opens its own savepoint (``db``), so a case's writes are undone before the next;
    the personas, their tokens and the objects are made once instead of once per case.
    """

    @pytest.fixture(scope="module")
    def fixture(django_db_setup: None, django_db_blocker: pytest_django.DjangoDbBlocker) -> Iterator[Any]:
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                built = build()
            except BaseException:
                transaction.set_rollback(True)
                outer.__exit__(*sys.exc_info())
                raise
        yield built
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)

    return fixture
