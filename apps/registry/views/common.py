"""What the registry's pages share: the status of a form page, query parameters and bounded pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

MAX_PAGE_DIGITS = 6


def form_status(request: HttpRequest) -> int:
    """A form sent back with errors is a 400; the empty form is a 200."""
    return 400 if request.method == "POST" else 200


def query_params(request: HttpRequest, *names: str) -> dict[str, str]:
    return {name: request.GET.get(name, "").strip()[:100] for name in names}


@dataclass(frozen=True)
class Paged:
    """One page of a list, or why the page asked for cannot be shown (``error``, with its ``status``)."""

    page: Page[Any] | None
    query: str  # the request's query string without the page: the pager's links keep filters and sort
    error: str = ""
    status: int = 200

    @property
    def rows(self) -> list[Any]:
        return list(self.page.object_list) if self.page is not None else []


def paged(request: HttpRequest, queryset: QuerySet[Any], per_page: int, param: str = "page") -> Paged:
    """Return the page of ``queryset`` that ``?page=`` names (the first by default), reading only its rows.

    A page that is not a whole number from 1 is a 400, one past the end a 404: each with a message
    the page shows in place of the list.
    """
    rest = request.GET.copy()
    raw = rest.pop(param, [""])[-1].strip() or "1"
    query = rest.urlencode()
    if not re.fullmatch(rf"[0-9]{{1,{MAX_PAGE_DIGITS}}}", raw) or int(raw) < 1:
        return Paged(None, query, "The page must be a whole number from 1 (follow the page links).", 400)
    paginator = Paginator(queryset, per_page)
    try:
        page = paginator.page(int(raw))
    except EmptyPage:
        pages = paginator.num_pages
        return Paged(
            None, query, f"There is no page {raw}: this list has {pages} page{'s' if pages != 1 else ''}.", 404
        )
    return Paged(page, query)
