"""Exports of the audit trail, through the shared exporter (apps/core/export.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from apps.audit.chain import format_time
from apps.audit.models import AuditEvent
from apps.audit.selectors import CHAIN_COLUMNS
from apps.core import export

EXPORT_COLUMNS = CHAIN_COLUMNS
export_response = export.export_response


def _rows(events: QuerySet[AuditEvent]) -> Iterable[dict[str, Any]]:
    return events.order_by("seq").values(*EXPORT_COLUMNS).iterator(chunk_size=2000)


def csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """Yield the CSV text of the events, header first, times as the chain writes them."""
    return export.csv_lines(EXPORT_COLUMNS, _rows(events), time=format_time)


def jsonl_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """Yield one JSON document a line, with the same fields and canonical times as the chain."""
    for row in _rows(events):
        row["occurred_at"] = format_time(row["occurred_at"])
        yield from export.jsonl_lines([row])
