"""The shared exporter: formulas neutralised in every text cell, numbers left as numbers."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from apps.core import export

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "\nLF", "＝1+1", "＋1", "－1", "＠A"]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_a_spreadsheet_would_run_is_quoted(text: str) -> None:
    header, row = list(csv.reader(io.StringIO("".join(export.csv_lines(["v"], [{"v": text}])))))
    assert (header, row) == (["v"], ["'" + text])


def test_numbers_stay_numbers_and_the_rest_is_text() -> None:
    moment = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    rows = [{"n": -0.25, "i": -3, "b": True, "none": None, "obj": {"b": 1, "a": "=x"}, "t": moment, "s": "ok"}]
    text = "".join(export.csv_lines(["n", "i", "b", "none", "obj", "t", "s"], rows))
    header, line = list(csv.reader(io.StringIO(text)))
    assert header == ["n", "i", "b", "none", "obj", "t", "s"]
    assert line == ["-0.25", "-3", "True", "", '{"a": "=x", "b": 1}', "2026-12-03T12:00:00+00:00", "ok"]


def test_json_lines_are_one_ascii_document_each() -> None:
    lines = list(export.jsonl_lines([{"a": "line\u2028separator"}, {"a": 2}]))
    assert len(lines) == 2
    assert all(line.endswith("\n") and line.isascii() for line in lines)
    assert [json.loads(line) for line in lines] == [{"a": "line\u2028separator"}, {"a": 2}]


def test_a_download_is_streamed_with_safe_headers() -> None:
    response = export.export_response(iter(["a\n"]), export_format="jsonl", stem="trail")
    assert response.streaming
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="trail.jsonl"'
    assert (response["X-Content-Type-Options"], response["Cache-Control"]) == ("nosniff", "no-store")
