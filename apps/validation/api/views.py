from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.lookups import visible_or_invalid
from apps.core.ids import MAX_ID
from apps.core.permissions import acting_user
from apps.projects.models import Project
from apps.registry import selectors as registry_selectors
from apps.validation import selectors, services
from apps.validation.api.serializers import (
    ValidationRunCreateSerializer,
    ValidationRunSerializer,
    ValidationSuiteCreateSerializer,
    ValidationSuiteSerializer,
)
from apps.validation.choices import RunStatus
from apps.validation.filters import RunFilter, SuiteFilter
from apps.validation.models import ValidationRun, ValidationSuite


def _visible(queryset: QuerySet[Any], pk: int | None, field: str, what: str) -> Any:
    return None if pk is None else visible_or_invalid(queryset, field, what, pk=pk)


class ValidationRunListView(generics.ListCreateAPIView[ValidationRun]):
    """Validation runs you can see (``?version=``, ``?status=``); POST queues one and answers at once."""

    permission_classes = [IsAuthenticated]
    serializer_class = ValidationRunSerializer

    filter_backends = [DjangoFilterBackend]
    filterset_class = RunFilter

    def get_queryset(self) -> QuerySet[ValidationRun]:
        return selectors.runs_visible_to(self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter("version", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
            OpenApiParameter("status", str, enum=RunStatus.values),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ValidationRunCreateSerializer, responses={201: ValidationRunSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ValidationRunCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        values = data.validated_data
        version = _visible(registry_selectors.versions_visible_to(user), values["version"], "version", "model version")
        datasets = registry_selectors.dataset_versions_visible_to(user).select_related("dataset")
        run = services.run_create(
            actor=acting_user(request),
            version=version,
            reference=_visible(datasets, values["reference"], "reference", "dataset version"),
            current=_visible(datasets, values["current"], "current", "dataset version"),
            spec=values.get("spec"),
            suite=_visible(selectors.suites_visible_to(user), values.get("suite"), "suite", "suite"),
        )
        return Response(ValidationRunSerializer(run).data, status=status.HTTP_201_CREATED)


class ValidationRunDetailView(generics.RetrieveAPIView[ValidationRun]):
    """A run: status, progress and step while it works; its results once it is done."""

    permission_classes = [IsAuthenticated]
    serializer_class = ValidationRunSerializer
    lookup_url_kwarg = "run_id"

    def get_queryset(self) -> QuerySet[ValidationRun]:
        return selectors.runs_visible_to(self.request.user).prefetch_related("results")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "with_results": True}


class ValidationSuiteListView(generics.ListCreateAPIView[ValidationSuite]):
    """Stored suites of the projects you can see (``?project=``, ``?model=``); POST stores one."""

    permission_classes = [IsAuthenticated]
    serializer_class = ValidationSuiteSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SuiteFilter

    def get_queryset(self) -> QuerySet[ValidationSuite]:
        return selectors.suites_visible_to(self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter("project", str, description="Slug of a project"),
            OpenApiParameter("model", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ValidationSuiteCreateSerializer, responses={201: ValidationSuiteSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ValidationSuiteCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        project = visible_or_invalid(Project.objects.visible_to(user), "project", "project", slug=values["project"])
        suite = services.suite_create(
            actor=acting_user(request),
            project=project,
            name=values["name"],
            spec=values["spec"],
            model=_visible(project.models.all(), values["model"], "model", "model of this project"),
            reference=_visible(
                registry_selectors.dataset_versions_visible_to(user).select_related("dataset"),
                values["reference"],
                "reference",
                "dataset version",
            ),
            current_dataset=_visible(
                registry_selectors.datasets_visible_to(user), values["current_dataset"], "current_dataset", "dataset"
            ),
            schedule_hours=values["schedule_hours"],
        )
        return Response(ValidationSuiteSerializer(suite).data, status=status.HTTP_201_CREATED)
