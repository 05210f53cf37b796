from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, parsers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.lookups import visible_or_invalid
from apps.core.api.parsers import JSONBodyParser
from apps.core.ids import MAX_ID
from apps.core.pagination import CursorPagination
from apps.core.permissions import acting_user
from apps.monitoring import selectors, services
from apps.monitoring.api.serializers import (
    BatchRowsSerializer,
    BatchSerializer,
    BreachSerializer,
    KpiActualCreateSerializer,
    KpiActualSerializer,
    MonitorCreateSerializer,
    MonitorSerializer,
    MonitorSourceSerializer,
    SourceFileSerializer,
    WindowResultSerializer,
)
from apps.monitoring.choices import BatchKind, BatchStatus, WindowSize
from apps.monitoring.filters import BatchFilter, MonitorFilter, WindowFilter
from apps.monitoring.models import Batch, Breach, KpiActual, Monitor, SourceFile, WindowResult
from apps.monitoring.services.ingest import ReadingUnderWay
from apps.projects import selectors as project_selectors
from apps.projects import services as project_services
from apps.projects.models import Kpi
from apps.registry import selectors as registry_selectors
from apps.registry.api.views import PayloadTooLarge
from apps.registry.uploads import too_large_message, upload_too_large
from apps.workflows import selectors as workflow_selectors

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with what is recorded."


def _monitor(request: Request, monitor_id: int) -> Monitor:
    return get_object_or_404(selectors.monitors_visible_to(request.user), pk=monitor_id)


class MonitorListView(generics.ListCreateAPIView[Monitor]):
    """Monitors of the deployments you can see (``?version=``, ``?deployment=``); POST sets one up."""

    permission_classes = [IsAuthenticated]
    serializer_class = MonitorSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = MonitorFilter

    def get_queryset(self) -> QuerySet[Monitor]:
        return selectors.monitors_visible_to(self.request.user)

    @extend_schema(parameters=[OpenApiParameter("version", ID), OpenApiParameter("deployment", ID)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=MonitorCreateSerializer, responses={201: MonitorSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = MonitorCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        user = request.user
        deployment = visible_or_invalid(
            workflow_selectors.deployments_visible_to(user), "deployment", "deployment", pk=values.pop("deployment")
        )
        reference = values.pop("reference")
        if reference is not None:
            reference = visible_or_invalid(
                registry_selectors.dataset_versions_visible_to(user).select_related("dataset"),
                "reference",
                "dataset version",
                pk=reference,
            )
        monitor = services.monitor_create(
            actor=acting_user(request), deployment=deployment, reference=reference, **values
        )
        return Response(MonitorSerializer(monitor).data, status=status.HTTP_201_CREATED)


class MonitorDetailView(generics.RetrieveAPIView[Monitor]):
    """A monitor: its deployment, reference, suite, windows and whom it tells. PATCH sets its ``source``."""

    permission_classes = [IsAuthenticated]
    serializer_class = MonitorSerializer
    lookup_url_kwarg = "monitor_id"

    def get_queryset(self) -> QuerySet[Monitor]:
        return selectors.monitors_visible_to(self.request.user)

    @extend_schema(request=MonitorSourceSerializer, responses={200: MonitorSerializer})
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        monitor = _monitor(request, kwargs["monitor_id"])
        data = MonitorSourceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.monitor_source_set(actor=acting_user(request), monitor=monitor, source=data.validated_data["source"])
        return Response(MonitorSerializer(_monitor(request, kwargs["monitor_id"])).data)


class SourceFileListView(generics.ListAPIView[SourceFile]):
    """The files the worker found in a monitor's source, found last first: the batch each became, or why not."""

    permission_classes = [IsAuthenticated]
    serializer_class = SourceFileSerializer
    queryset = SourceFile.objects.none()  # for the schema: get_queryset needs the monitor of the URL

    def get_queryset(self) -> QuerySet[SourceFile]:
        return SourceFile.objects.filter(monitor=_monitor(self.request, self.kwargs["monitor_id"]))


class MonitorIngestView(generics.GenericAPIView[Monitor]):
    """POST asks for a reading of the monitor's source now (202); the files appear under ``source-files/``."""

    permission_classes = [IsAuthenticated]
    serializer_class = MonitorSerializer
    queryset = Monitor.objects.none()  # for the schema

    @extend_schema(request=None, responses={202: MonitorSerializer, 409: OpenApiTypes.OBJECT})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        monitor = _monitor(request, kwargs["monitor_id"])
        try:
            services.monitor_ingest_request(actor=acting_user(request), monitor=monitor)
        except ReadingUnderWay as exc:
            raise Conflict(str(exc)) from None
        return Response(MonitorSerializer(monitor).data, status=status.HTTP_202_ACCEPTED)


class BatchListView(generics.ListCreateAPIView[Batch]):
    """A monitor's batches, newest first (``?kind=``, ``?status=``). POST sends one.

    POST a multipart ``file`` (CSV or Parquet) with ``kind`` and ``key``, or JSON
    ``{"kind", "key", "rows": [...]}``; the ``Idempotency-Key`` header may carry the key. A new
    batch answers 201; a batch sent again (same key, or same content) 200 with the batch received
    first, counted once.
    """

    permission_classes = [IsAuthenticated]
    serializer_class = BatchSerializer
    queryset = Batch.objects.none()  # for the schema: get_queryset needs the monitor of the URL
    parser_classes = [JSONBodyParser, parsers.MultiPartParser]
    filter_backends = [DjangoFilterBackend]
    filterset_class = BatchFilter

    def get_queryset(self) -> QuerySet[Batch]:
        return selectors.batches_of(_monitor(self.request, self.kwargs["monitor_id"]))

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=BatchKind.values),
            OpenApiParameter("status", str, enum=BatchStatus.values),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "kind": {"type": "string", "enum": BatchKind.values},
                    "key": {"type": "string", "maxLength": 200},
                },
                "required": ["file"],
            },
            "application/json": BatchRowsSerializer,
        },
        responses={201: BatchSerializer, 200: BatchSerializer, 409: OpenApiTypes.OBJECT, 413: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        monitor = _monitor(request, kwargs["monitor_id"])
        header_key = str(request.headers.get("Idempotency-Key") or "")
        try:
            if request.content_type.startswith("multipart/"):
                files = request.FILES
                if upload_too_large(request):
                    raise PayloadTooLarge(too_large_message())
                uploaded = files.get("file")
                if uploaded is None:
                    raise exceptions.ValidationError({"file": ["Send the batch as the multipart field “file”."]})
                kind = str(request.data.get("kind") or BatchKind.PREDICTIONS)
                batch, new = services.batch_receive(
                    actor=acting_user(request),
                    monitor=monitor,
                    kind=kind,
                    path=Path(uploaded.temporary_file_path()),
                    original_name=uploaded.name or "upload",
                    key=str(request.data.get("key") or header_key),
                )
            else:
                data = BatchRowsSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                values = data.validated_data
                batch, new = services.batch_receive(
                    actor=acting_user(request),
                    monitor=monitor,
                    kind=values["kind"],
                    rows=values["rows"],
                    key=values["key"] or header_key,
                )
        except services.BatchKeyConflict as exc:
            raise Conflict(str(exc)) from None
        return Response(BatchSerializer(batch).data, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK)


class OldestWindowFirst(CursorPagination):
    ordering = ("start", "position")  # type: ignore[assignment]  # DRF takes a tuple; the stubs say str


class WindowListView(generics.ListAPIView[WindowResult]):
    """A monitor's metrics over time: one result per window and metric, oldest window first.

    ``?size=`` hour, day (the default) or week; ``?metric=`` and ``?column=`` pick one series;
    ``?since=`` and ``?until=`` bound the windows' starts (ISO 8601).
    """

    permission_classes = [IsAuthenticated]
    serializer_class = WindowResultSerializer
    queryset = WindowResult.objects.none()  # for the schema: get_queryset needs the monitor of the URL
    pagination_class = OldestWindowFirst
    filter_backends = [DjangoFilterBackend]
    filterset_class = WindowFilter

    def get_queryset(self) -> QuerySet[WindowResult]:
        monitor = _monitor(self.request, self.kwargs["monitor_id"])
        queryset = WindowResult.objects.filter(monitor=monitor)
        if not self.request.query_params.get("size"):
            queryset = queryset.filter(size=WindowSize.DAY)
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("size", str, enum=WindowSize.values),
            OpenApiParameter("metric", {"type": "string", "maxLength": 60}),
            OpenApiParameter("column", {"type": "string", "maxLength": 256}),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class BreachListView(generics.ListAPIView[Breach]):
    """A monitor's breaches, newest first: open ones, and recovered ones with when they recovered."""

    permission_classes = [IsAuthenticated]
    serializer_class = BreachSerializer

    def get_queryset(self) -> QuerySet[Breach]:
        return selectors.breaches_of(_monitor(self.request, self.kwargs["monitor_id"]))


class MeasuredFirst(CursorPagination):
    ordering = ("measurement__measured_at", "measurement_id")  # type: ignore[assignment]  # as above


class KpiActualListView(generics.ListCreateAPIView[KpiActual]):
    """The measured values of a project's KPI over time, each with the deployment in production then.

    POST ``{"value", "measured_at"}`` records one (owners, business owners and developers), as the
    project page does by hand.
    """

    permission_classes = [IsAuthenticated]
    serializer_class = KpiActualSerializer
    pagination_class = MeasuredFirst

    def _kpi(self) -> Kpi:
        project = project_selectors.project_get(user=self.request.user, slug=self.kwargs["slug"])
        return get_object_or_404(Kpi.objects.select_related("project"), project=project, pk=self.kwargs["kpi_id"])

    def get_queryset(self) -> QuerySet[KpiActual]:
        return selectors.kpi_actuals_of(self._kpi().pk)

    @extend_schema(request=KpiActualCreateSerializer, responses={201: KpiActualSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kpi = self._kpi()
        data = KpiActualCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        measurement = project_services.kpi_record_value(
            actor=acting_user(request),
            kpi=kpi,
            value=data.validated_data["value"],
            measured_at=data.validated_data["measured_at"],
        )
        actual = selectors.kpi_actuals_of(kpi.pk).get(measurement=measurement)
        return Response(KpiActualSerializer(actual).data, status=status.HTTP_201_CREATED)
