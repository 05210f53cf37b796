from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit import selectors, services
from apps.audit.api.serializers import AuditEventSerializer
from apps.audit.downloads import trail_download
from apps.audit.filters import AuditEventFilter
from apps.audit.forms import AuditFilterForm
from apps.audit.models import AuditEvent
from apps.audit.permissions import CanReadAuditTrail
from apps.core.pagination import CursorPagination
from apps.core.permissions import acting_user


class AuditEventPagination(CursorPagination):
    ordering = "-seq"


_FILTERS = [
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="events at or after this time (UTC)"),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="events at or before this time (UTC)"),
    OpenApiParameter("actor", str, description="username of the actor"),
    OpenApiParameter("action", str, description="exact action, or a prefix ending in a dot"),
    OpenApiParameter("target_type", str, description="app_label.model of the target"),
    OpenApiParameter("target_id", str),
    OpenApiParameter("project", str, description="project slug"),
    OpenApiParameter("request_id", str),
    OpenApiParameter("format", str, enum=["json", "csv", "jsonl"], description="csv or jsonl stream an export"),
]


class AuditEventListView(generics.ListAPIView[AuditEvent]):
    """The audit trail, newest first; ``?format=csv`` or ``jsonl`` streams an export of all matches."""

    permission_classes = [CanReadAuditTrail]
    serializer_class = AuditEventSerializer
    pagination_class = AuditEventPagination

    def _filters(self) -> AuditFilterForm:  # the FilterSet's form, built on AuditFilterForm
        form = AuditEventFilter(self.request.query_params).form
        if not form.is_valid():
            raise exceptions.ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        return form

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return selectors.audit_events_filtered(user=self.request.user, filters=self._filters().cleaned_data)

    @extend_schema(
        parameters=_FILTERS,
        responses={
            (200, "application/json"): AuditEventSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/x-ndjson"): OpenApiTypes.STR,
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        export_format = request.query_params.get("format", "json")
        if export_format == "json":
            return super().get(request, *args, **kwargs)
        if export_format not in services.EXPORT_FORMATS:
            raise exceptions.ValidationError({"format": ["Use json, csv or jsonl."]})
        form = self._filters()
        return trail_download(actor=acting_user(request), form=form, export_format=export_format)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
