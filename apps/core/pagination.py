"""Cursor pagination for every API list: stable under inserts, no COUNT(*) on large tables."""

from __future__ import annotations

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 200
