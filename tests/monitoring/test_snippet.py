"""The snippet of docs/monitoring.md that a serving process calls, run as written against a live server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from apps.accounts.services import api_token_create
from apps.monitoring.models import Batch
from tests.monitoring.conftest import Watched, hour, traffic
from tests.servers import portal_server
from tests.workflows.conftest import Flow

DOC = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"


def snippet() -> dict[str, Any]:
    """The code block after the ``snippet: send-batch`` marker, executed as a module would be."""
    text = DOC.read_text()
    found = re.search(r"<!-- snippet: send-batch.*?-->\n```python\n(.*?)```", text, re.S)
    assert found, "docs/monitoring.md lost its send-batch snippet"
    namespace: dict[str, Any] = {"__name__": "snippet"}
    exec(compile(found.group(1), str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation's code
    return namespace


def rows(count: int, seed: int, first_id: int) -> list[dict[str, Any]]:
    table = traffic(count, start=hour(1), seed=seed, first_id=first_id)
    out = table.to_pylist()
    for row in out:
        row["timestamp"] = row["timestamp"].isoformat()
    return out


@pytest.mark.worker
def test_a_serving_process_sends_batches_with_the_documented_snippet(transactional_db: None, tmp_path: Path) -> None:
    code = snippet()
    watched = Watched(Flow("low"), tmp_path)
    _token, token = api_token_create(actor=None, user=watched.flow.it_ops, name="serving")
    monitor = watched.monitor.pk
    with portal_server(tmp_path / "web.log") as url:
        sent = code["send_batch"](url, token, monitor, rows(40, 1, 0), key="serving-1")
        again = code["send_batch"](url, token, monitor, rows(40, 1, 0), key="serving-1")
        as_csv = code["send_batch_csv"](url, token, monitor, rows(60, 2, 1000), key="serving-2")
        with pytest.raises(RuntimeError, match="400: The request has invalid fields"):
            code["send_batch"](url, token, monitor, [{"f0": 1.0}], key="serving-3")
    assert (sent["status"], sent["row_count"], again["id"]) == ("received", 40, sent["id"])
    assert (as_csv["row_count"], as_csv["format"]) == (60, "csv")
    assert Batch.objects.filter(monitor=watched.monitor).count() == 2
