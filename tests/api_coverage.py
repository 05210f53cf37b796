"""A pytest plugin: every operation of the OpenAPI schema is called by at least one test.

Every request that Django answers during the run, through the test client or a live server in a
test process, is recorded as (method, URL route pattern, status, test file). At the end of the
session the records of every process (the xdist workers send theirs through ``workeroutput``; the
controller gathers them) are compared, once, with the operations of the schema that
``/api/v1/schema/`` serves, generated in-process. An operation that no test called, or that never
answered with a success, fails the run with the list of those operations.

When the check runs (``--api-coverage``):

- ``auto`` (the default): only when the whole suite runs, that is no path narrower than the
  ``testpaths``, no ``-k``, ``-m``, ``--deselect`` or ``--lf`` that removed a test, and the run was not
  stopped early (``-x``, ``--maxfail``, Ctrl-C). ``make test`` runs the whole suite, so it checks
  without a flag; a developer running one file is not told that the other files' operations are
  uncalled.
- ``on``: always, whatever was selected (the plugin's own tests use it); ``off``: never.

Calls made by a test that walks the schema (Schemathesis, which calls every operation by
construction) do not count: they would call a new operation without anyone writing a test for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

WORKEROUTPUT_KEY = "signet_api_calls"
# Tests that call every operation of the schema because it is in the schema: their calls say
# nothing about whether somebody tested a given operation (tests/core/test_schema_fuzz.py).
SCHEMA_WALKERS = frozenset({"tests/core/test_schema_fuzz.py"})
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

Call = tuple[str, str, int, str]  # method, schema-style path, status, test file


@dataclass(frozen=True)
class Coverage:
    uncalled: list[str]
    never_succeeded: list[str]
    operations: int
    called: int


_calls: set[Call] = set()
_current_test: list[str] = [""]  # the file of the test running in this process, read by live-server threads
_ROUTE_PARAMETER = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")


def schema_path(route: str) -> str:
    """``api/v1/reviews/<int:review_id>/`` -> ``/api/v1/reviews/{review_id}/``, as the schema spells it."""
    return "/" + _ROUTE_PARAMETER.sub(r"{\1}", route).lstrip("^").rstrip("$")


def schema_operations(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """The (METHOD, path) of every operation in an OpenAPI document."""
    return {
        (method.upper(), path)
        for path, item in schema.get("paths", {}).items()
        for method in item
        if method in HTTP_METHODS
    }


def served_schema_operations() -> set[tuple[str, str]]:
    """The operations of the schema ``/api/v1/schema/`` serves, generated in this process."""
    from drf_spectacular.generators import SchemaGenerator

    return schema_operations(SchemaGenerator().get_schema(request=None, public=True))


def check(operations: set[tuple[str, str]], calls: Iterable[Call]) -> Coverage:
    """Compare the schema's operations with the recorded calls (walkers' calls left out)."""
    counted = [(method, path, status) for method, path, status, caller in calls if caller not in SCHEMA_WALKERS]
    called = {(method, path) for method, path, _status in counted}
    succeeded = {(method, path) for method, path, status in counted if 200 <= status < 300}
    return Coverage(
        uncalled=sorted(f"{m} {p}" for m, p in operations - called),
        never_succeeded=sorted(f"{m} {p}" for m, p in (operations & called) - succeeded),
        operations=len(operations),
        called=len(operations & called),
    )


def _record(request: Any, response: Any) -> None:
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None)
    if route:
        _calls.add((request.method, schema_path(route), int(response.status_code), _current_test[0]))


def _install_recorder() -> None:
    """Wrap Django's request handler (test client, live servers, async client) to record each answer."""
    from django.core.handlers.base import BaseHandler

    if getattr(BaseHandler.get_response, "_records_api_calls", False):
        return
    original: Callable[..., Any] = BaseHandler.get_response
    original_async: Callable[..., Any] = BaseHandler.get_response_async

    def get_response(self: BaseHandler, request: Any) -> Any:
        response = original(self, request)
        _record(request, response)
        return response

    async def get_response_async(self: BaseHandler, request: Any) -> Any:
        response = await original_async(self, request)
        _record(request, response)
        return response

    get_response._records_api_calls = True  # type: ignore[attr-defined]
    BaseHandler.get_response = get_response  # type: ignore[method-assign]
    BaseHandler.get_response_async = get_response_async  # type: ignore[method-assign]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--api-coverage",
        choices=("auto", "on", "off"),
        default="auto",
        help="check that every API operation of the schema is called by a test: auto (when the whole suite "
        "runs), on, off",
    )
    parser.addoption(
        "--api-coverage-json",
        default=None,
        metavar="PATH",
        help="write every recorded API call (method, path, status, test file) to PATH as JSON",
    )


def pytest_configure(config: pytest.Config) -> None:
    _install_recorder()
    config.pluginmanager.register(_Session(config), "signet-api-coverage")


class _Session:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.worker = hasattr(config, "workerinput")
        self.calls: set[Call] = _calls
        self.deselected = 0
        self.workers_reported = 0
        self.coverage: Coverage | None = None

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        _current_test[0] = nodeid.split("::", 1)[0]

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        _current_test[0] = ""

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """xdist, in the controller: gather what a worker recorded."""
        output = getattr(node, "workeroutput", None) or {}
        if WORKEROUTPUT_KEY in output:
            self.workers_reported += 1
            self.calls.update((m, p, int(s), c) for m, p, s, c in output[WORKEROUTPUT_KEY]["calls"])
            self.deselected += output[WORKEROUTPUT_KEY]["deselected"]

    def _whole_suite(self, session: pytest.Session) -> bool:
        config = self.config
        if self.deselected or session.shouldstop or session.shouldfail:
            return False
        if config.args_source != pytest.Config.ArgsSource.ARGS:
            return True
        here, root = config.invocation_params.dir, config.rootpath
        given = {(here / arg).resolve() for arg in config.args}
        whole = {(root / path).resolve() for path in config.getini("testpaths")} | {root.resolve()}
        return given <= whole and not any("::" in arg for arg in config.args)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.worker:
            self.config.workeroutput[WORKEROUTPUT_KEY] = {  # type: ignore[attr-defined]
                "calls": sorted(self.calls),
                "deselected": self.deselected,
            }
            return
        if path := self.config.getoption("api_coverage_json"):
            Path(path).write_text("[\n" + ",\n".join(json.dumps(call) for call in sorted(self.calls)) + "\n]\n")
        mode = self.config.getoption("api_coverage")
        if mode == "off" or exitstatus == pytest.ExitCode.INTERRUPTED:
            return
        if mode == "auto" and not self._whole_suite(session):
            return
        self.coverage = check(served_schema_operations(), self.calls)
        if (self.coverage.uncalled or self.coverage.never_succeeded) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        coverage = self.coverage
        if coverage is None:
            return
        gathered = f" (calls gathered from {self.workers_reported} workers)" if self.workers_reported else ""
        if coverage.uncalled or coverage.never_succeeded:
            terminalreporter.section("API operations without a test", sep="=", red=True, bold=True)
            for line in coverage.uncalled:
                terminalreporter.line(f"never called: {line}", red=True)
            for line in coverage.never_succeeded:
                terminalreporter.line(f"never answered 2xx: {line}", red=True)
            terminalreporter.line(
                "Write a test that calls each through the test client (status and body asserted, and a refusal).",
            )
        terminalreporter.line(
            f"API coverage: {coverage.called} of {coverage.operations} schema operations called by a test{gathered}; "
            f"{len(coverage.never_succeeded)} never answered 2xx."
        )
