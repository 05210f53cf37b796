"""One way to export rows: CSV that is safe to open in a spreadsheet, and JSON Lines, streamed.

The audit trail, validation results and (next) the inventory export through here, so every export
neutralises spreadsheet formulas the same way (OWASP "CSV injection") and answers with the same
download headers.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse

FORMATS = ("csv", "jsonl")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(cell: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def cell(value: Any, *, time: Callable[[Any], str] | None = None) -> Any:
    """A CSV cell: numbers stay numbers (a negative R² is not a formula), everything else is text,
    neutralised; lists and objects as JSON; times through ``time`` (ISO 8601 by default)."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    elif hasattr(value, "astimezone"):
        text = time(value) if time else value.isoformat()
    else:
        text = str(value)
    return neutralise(text)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(
    columns: Sequence[str], rows: Iterable[Mapping[str, Any]], *, time: Callable[[Any], str] | None = None
) -> Iterator[str]:
    """Yield the CSV text of ``rows`` (mappings with ``columns``), header first."""
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([cell(row[column], time=time) for column in columns])


def jsonl_lines(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """Yield one JSON document a line. ASCII only: U+2028 and friends would split a record for
    readers that break lines on them."""
    for row in rows:
        yield json.dumps(row, sort_keys=True, ensure_ascii=True, cls=DjangoJSONEncoder) + "\n"


def export_response(lines: Iterator[str], *, export_format: str, stem: str) -> StreamingHttpResponse:
    """A streamed download of ``lines`` in ``export_format`` (csv or jsonl)."""
    content_type = "text/csv; charset=utf-8" if export_format == "csv" else "application/x-ndjson; charset=utf-8"
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{export_format}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
