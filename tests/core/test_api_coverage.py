"""The API coverage plugin (tests/api_coverage.py): a new operation without a test fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from tests import api_coverage
from tests.api_coverage import check, schema_operations, schema_path, served_schema_operations

ROOT = Path(__file__).resolve().parents[2]


def test_routes_are_spelled_as_the_schema_spells_paths() -> None:
    assert schema_path("api/v1/reviews/<int:review_id>/") == "/api/v1/reviews/{review_id}/"
    assert schema_path("api/v1/projects/<slug:slug>/members/") == "/api/v1/projects/{slug}/members/"
    assert schema_path("api/v1/gate/") == "/api/v1/gate/"
    assert schema_path("api/v1/things/<name>/") == "/api/v1/things/{name}/"


def test_the_served_schema_is_enumerated_in_process() -> None:
    operations = served_schema_operations()
    assert ("GET", "/api/v1/reviews/{review_id}/") in operations
    assert ("POST", "/api/v1/reviews/{review_id}/delegate/") in operations
    assert ("DELETE", "/api/v1/projects/{slug}/members/") in operations
    assert all(path.startswith("/api/v1/") for _method, path in operations)
    assert len(operations) >= 54


def test_a_new_operation_that_no_test_calls_is_named() -> None:
    schema = {
        "paths": {
            "/api/v1/things/": {"get": {}, "post": {}, "parameters": []},
            "/api/v1/things/{thing_id}/": {"get": {}},
        }
    }
    operations = schema_operations(schema)
    assert operations == {
        ("GET", "/api/v1/things/"),
        ("POST", "/api/v1/things/"),
        ("GET", "/api/v1/things/{thing_id}/"),
    }
    finding = check(
        operations,
        [
            ("GET", "/api/v1/things/", 200, "tests/things/test_api.py"),
            ("POST", "/api/v1/things/", 403, "tests/things/test_api.py"),
            ("GET", "/api/v1/other/", 200, "tests/things/test_api.py"),
        ],
    )
    assert finding.uncalled == ["GET /api/v1/things/{thing_id}/"]
    assert finding.never_succeeded == ["POST /api/v1/things/"]
    assert (finding.called, finding.operations) == (2, 3)


def test_a_schema_walker_calling_every_operation_covers_none() -> None:
    operations = {("GET", "/api/v1/things/")}
    walked = [("GET", "/api/v1/things/", 200, "tests/core/test_schema_fuzz.py")]
    assert check(operations, walked).uncalled == ["GET /api/v1/things/"]
    assert check(operations, [*walked, ("GET", "/api/v1/things/", 200, "tests/x.py")]).uncalled == []


def test_the_test_client_records_method_route_status_and_test_file(client: Client) -> None:
    assert client.get("/api/v1/me/").status_code == 401
    assert ("GET", "/api/v1/me/", 401, "tests/core/test_api_coverage.py") in api_coverage._calls


@pytest.mark.django_db(transaction=True)
def test_a_live_server_in_the_test_process_records_too(live_server: LiveServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{live_server.url}/api/v1/gate/?model=x&version=1&environment=p", timeout=10)  # noqa: S310
    assert refused.value.code == 401
    assert ("GET", "/api/v1/gate/", 401, "tests/core/test_api_coverage.py") in api_coverage._calls


CONFTEST = 'pytest_plugins = ["tests.api_coverage"]\n'
CALLS_ME = "def test_me(client):\n    assert client.get('/api/v1/me/').status_code == 401\n"
CALLS_GATE = "def test_gate(client):\n    assert client.get('/api/v1/gate/').status_code == 401\n"


def _suite(tmp_path: Path) -> Path:
    """A small suite of two files, each calling one operation, with the plugin registered."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = tests.settings\ntestpaths = checks\n")
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_me.py").write_text(CALLS_ME)
    (tmp_path / "checks" / "test_gate.py").write_text(CALLS_GATE)
    return tmp_path


def _pytest(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNET_TEST", "PYTEST_", "SIGNET_VAR"))}
    env = {**keep, "PYTHONPATH": str(ROOT), "SIGNET_VAR_DIR": str(where / "var"), "SIGNET_TEST_OWNS_VAR_DIR": "false"}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args]
    return subprocess.run(command, cwd=where, env=env, capture_output=True, text=True, timeout=240, check=False)


def test_the_whole_suite_under_xdist_fails_naming_each_uncalled_operation(tmp_path: Path) -> None:
    run = _pytest(_suite(tmp_path), "-n", "2")
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "2 passed" in output, output
    assert "never called: GET /api/v1/reviews/{review_id}/" in output
    assert "never called: POST /api/v1/reviews/{review_id}/delegate/" in output
    # What each worker recorded reached the controller, which checked once.
    assert "never called: GET /api/v1/me/" not in output
    assert "never called: GET /api/v1/gate/" not in output
    assert "never answered 2xx: GET /api/v1/me/" in output
    assert "(calls gathered from 2 workers)" in output
    assert output.count("API coverage:") == 1


@pytest.mark.parametrize("selection", [["-k", "me"], ["checks/test_me.py"], ["checks/test_me.py::test_me"]])
def test_a_selection_of_tests_is_not_checked(tmp_path: Path, selection: list[str]) -> None:
    run = _pytest(_suite(tmp_path), *selection)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "API coverage:" not in output


def test_the_check_can_be_asked_for_on_a_selection_or_turned_off(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    asked = _pytest(suite, "checks/test_me.py", "--api-coverage=on")
    assert asked.returncode == 1, asked.stdout
    assert "never called: GET /api/v1/gate/" in asked.stdout
    off = _pytest(suite, "--api-coverage=off")
    assert off.returncode == 0, off.stdout
    assert "API coverage:" not in off.stdout
