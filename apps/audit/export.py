"""Streamed exports of the audit trail: CSV (safe to open in a spreadsheet) and JSON Lines."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from apps.audit.chain import format_time
from apps.audit.models import AuditEvent
from apps.audit.selectors import CHAIN_COLUMNS

EXPORT_COLUMNS = CHAIN_COLUMNS
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(cell: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula (OWASP CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    elif hasattr(value, "astimezone"):
        text = format_time(value)
    else:
        text = str(value)
    return neutralise(text)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(events: QuerySet[AuditEvent]) -> Iterable[dict[str, Any]]:
    return events.order_by("seq").values(*EXPORT_COLUMNS).iterator(chunk_size=2000)


def csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """Yield the CSV text of the events, header first."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for row in _rows(events):
        yield writer.writerow([_cell(row[column]) for column in EXPORT_COLUMNS])


def jsonl_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """Yield one JSON document a line, with the same fields and canonical times as the chain."""
    for row in _rows(events):
        row["occurred_at"] = format_time(row["occurred_at"])
        # ASCII only: U+2028 and friends would split a record for readers that break lines on them.
        yield json.dumps(row, sort_keys=True, ensure_ascii=True, cls=DjangoJSONEncoder) + "\n"


def export_response(lines: Iterator[str], *, export_format: str, stem: str) -> Any:
    """Return a streamed download of ``lines`` in ``export_format`` (csv or jsonl)."""
    from django.http import StreamingHttpResponse

    content_type = "text/csv; charset=utf-8" if export_format == "csv" else "application/x-ndjson; charset=utf-8"
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{export_format}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
