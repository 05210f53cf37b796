"""Schemathesis, with all its checks, against the live API and its own OpenAPI schema: 0 failures.

Run by hand with the same settings (against a server started with the test settings and seeded):

    st --config-file tests/core/schemathesis.toml run http://127.0.0.1:8000/api/v1/schema/ --checks all \\
        --max-examples 8 --seed 20261203 --workers 1 -H "Authorization: Bearer $TOKEN"
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from pytest_django.live_server_helper import LiveServer

from apps.accounts.models import User
from apps.accounts.services import api_token_create

ST = Path(sys.executable).with_name("st")
CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 8  # per operation and phase: about a minute on two shared cores
SEED = 20261203  # a fixed seed: a failure reproduces


# The limits guard against a hang; beside other pytest-xdist workers on two cores, the fuzzing alone
# took up to 300 s while other test runs loaded the machine too (docs/decisions/0019).
@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_the_api_behaves_as_its_schema_says(live_server: LiveServer, tmp_path: Path) -> None:
    call_command("seed_demo", "--force", stdout=io.StringIO())
    # The demo data scientist: registers models, writes cards, submits, raises findings, runs checks.
    _token, raw = api_token_create(actor=None, user=User.objects.get(username="developer"), name="fuzz", days=1)
    command = [
        str(ST),
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_server.url}/api/v1/schema/",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        # One: with two threads, Python 3.11.7's ast module now and then fails in schemathesis
        # ("SystemError: AST constructor recursion depth mismatch"), a CPython bug of threads, not of
        # Signet. Alone the fuzzing takes ~150 s instead of ~100 s; beside the other pytest-xdist
        # workers it still ends before them.
        os.environ.get("SIGNET_FUZZ_WORKERS", "1"),
        "--generation-database",
        "none",
        "--no-color",
        "--request-timeout",
        "30",
        "-H",
        f"Authorization: Bearer {raw}",
    ]
    result = subprocess.run(
        command,
        check=False,
        capture_output=True,
        text=True,
        timeout=560,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
    )
    output = result.stdout + result.stderr
    (tmp_path / "schemathesis.txt").write_text(output)
    assert result.returncode == 0, output[-20_000:]
    # Warnings (operations a data scientist may not call, ids the generator could not guess) are
    # not failures; every generated case must pass.
    assert "Failures:" not in output, output[-20_000:]
    assert re.search(r"Test cases:\s+(\d+) generated, \1 passed", output), output[-5_000:]
