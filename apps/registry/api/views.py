from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import exceptions, generics, parsers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.lookups import visible_or_invalid
from apps.core.api.parsers import JSONBodyParser
from apps.core.filters import filter_parameters
from apps.core.pagination import CursorPagination
from apps.core.permissions import acting_user
from apps.projects.models import Project
from apps.registry import selectors, services
from apps.registry.api.serializers import (
    DatasetCreateSerializer,
    DatasetSerializer,
    DatasetVersionLinkSerializer,
    DatasetVersionSerializer,
    ModelCardSerializer,
    ModelCardWriteSerializer,
    ModelVersionSerializer,
    ModelVersionWriteSerializer,
    RegisteredModelCreateSerializer,
    RegisteredModelSerializer,
    RegisteredModelUpdateSerializer,
)
from apps.registry.filters import DatasetFilter, RegisteredModelFilter
from apps.registry.models import Dataset, DatasetVersion, ModelVersion, RegisteredModel
from apps.registry.uploads import too_large_message, upload_too_large


def _visible_project(request: Request, slug: str) -> Project:
    """Resolve a project named in a request body through what the caller may see (no probing by slug)."""
    return visible_or_invalid(Project.objects.visible_to(request.user), "project", "project", slug=slug)


def _models(request: Request) -> QuerySet[RegisteredModel]:
    return selectors.models_with_latest_version(selectors.models_visible_to(request.user))


def _model(request: Request, model_id: int) -> RegisteredModel:
    """One model the caller may see, with its latest version and tag names, or a 404."""
    return selectors.with_tag_names([get_object_or_404(_models(request), pk=model_id)])[0]


class RegisteredModelListView(generics.ListCreateAPIView[RegisteredModel]):
    """Registered models you can see; ``?project=<slug>``, ``?task=``, ``?tag=``, ``?q=``."""

    permission_classes = [IsAuthenticated]
    serializer_class = RegisteredModelSerializer

    def get_queryset(self) -> QuerySet[RegisteredModel]:
        # Keyset pages (CursorPagination): the latest version is annotated on the rows of the page only.
        return selectors.models_with_latest_version(
            selectors.model_list(user=self.request.user, filters=self.request.query_params, tags=False)
        )

    def paginate_queryset(self, queryset: QuerySet[RegisteredModel] | Sequence[Any]) -> list[RegisteredModel] | None:
        page = super().paginate_queryset(queryset)
        return None if page is None else selectors.with_tag_names(list(page))

    @extend_schema(parameters=filter_parameters(RegisteredModelFilter))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=RegisteredModelCreateSerializer, responses={201: RegisteredModelSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = RegisteredModelCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        project = _visible_project(request, fields.pop("project"))
        model = services.model_create(actor=acting_user(request), project=project, **fields)
        return Response(RegisteredModelSerializer(_model(request, model.pk)).data, status=status.HTTP_201_CREATED)


class RegisteredModelDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=RegisteredModelSerializer)
    def get(self, request: Request, model_id: int) -> Response:
        return Response(RegisteredModelSerializer(_model(request, model_id)).data)

    @extend_schema(request=RegisteredModelUpdateSerializer, responses=RegisteredModelSerializer)
    def patch(self, request: Request, model_id: int) -> Response:
        model = get_object_or_404(_models(request), pk=model_id)
        data = RegisteredModelUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.model_update(actor=acting_user(request), model=model, **data.validated_data)
        return Response(RegisteredModelSerializer(_model(request, model.pk)).data)


def _versions(request: Request) -> QuerySet[ModelVersion]:
    return selectors.versions_visible_to(request.user).select_related("model__project", "card", "created_by")


def _links(request: Request, model: RegisteredModel, data: dict[str, Any]) -> dict[str, Any]:
    """Turn ids into objects through what the caller may see; unknown and hidden ids read the same."""
    fields = dict(data)
    if fields.get("training_dataset") is not None:
        fields["training_dataset"] = visible_or_invalid(
            selectors.dataset_versions_visible_to(request.user).select_related("dataset__project"),
            "training_dataset",
            "dataset version",
            pk=fields["training_dataset"],
        )
    if fields.get("parent") is not None:
        fields["parent"] = model.versions.filter(pk=fields["parent"]).first()
        if fields["parent"] is None:
            raise exceptions.ValidationError({"parent": ["No version of this model has this id."]})
    return fields


class NewestVersionFirst(CursorPagination):
    """A model's versions by number, newest first: a page is a seek on the (model, number) unique index."""

    ordering = "-number"


class ModelVersionListView(generics.ListCreateAPIView[ModelVersion]):
    """Versions of a model, newest first; POST registers a new version (numbered for you)."""

    permission_classes = [IsAuthenticated]
    serializer_class = ModelVersionSerializer
    pagination_class = NewestVersionFirst

    def _model(self) -> RegisteredModel:
        return get_object_or_404(
            selectors.models_visible_to(self.request.user).select_related("project"), pk=self.kwargs["model_id"]
        )

    def get_queryset(self) -> QuerySet[ModelVersion]:
        model = self._model()  # through what the caller may see: its versions are visible with it
        # The related manager hands each version this model (and its project): no join, no second check.
        return model.versions.select_related("card", "created_by")

    @extend_schema(request=ModelVersionWriteSerializer, responses={201: ModelVersionSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        model = self._model()
        data = ModelVersionWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.version_create(
            actor=acting_user(request), model=model, **_links(request, model, data.validated_data)
        )
        # The version as written, with its model, card and author in hand: no re-read of what was just saved.
        return Response(ModelVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class ModelVersionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ModelVersionSerializer)
    def get(self, request: Request, version_id: int) -> Response:
        return Response(ModelVersionSerializer(get_object_or_404(_versions(request), pk=version_id)).data)

    @extend_schema(request=ModelVersionWriteSerializer, responses=ModelVersionSerializer)
    def patch(self, request: Request, version_id: int) -> Response:
        version = get_object_or_404(_versions(request), pk=version_id)
        data = ModelVersionWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.version_update(
            actor=acting_user(request), version=version, **_links(request, version.model, data.validated_data)
        )
        return Response(ModelVersionSerializer(_versions(request).get(pk=version.pk)).data)


class ModelCardView(APIView):
    """A version's model card. PUT writes the sections given (others stay as they are)."""

    permission_classes = [IsAuthenticated]

    def _version(self, request: Request, version_id: int) -> ModelVersion:
        return get_object_or_404(_versions(request), pk=version_id)

    @extend_schema(responses=ModelCardSerializer)
    def get(self, request: Request, version_id: int) -> Response:
        return Response(ModelCardSerializer(self._version(request, version_id).card).data)

    @extend_schema(request=ModelCardWriteSerializer, responses=ModelCardSerializer)
    def put(self, request: Request, version_id: int) -> Response:
        version = self._version(request, version_id)
        data = ModelCardWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.card_update(actor=acting_user(request), card=version.card, sections=data.validated_data["sections"])
        return Response(ModelCardSerializer(self._version(request, version_id).card).data)


class DatasetListView(generics.ListCreateAPIView[Dataset]):
    """The data catalogue you can see; ``?project=<slug>``, ``?q=``."""

    permission_classes = [IsAuthenticated]
    serializer_class = DatasetSerializer

    def get_queryset(self) -> QuerySet[Dataset]:
        return selectors.dataset_list(user=self.request.user, filters=self.request.query_params)

    @extend_schema(parameters=filter_parameters(DatasetFilter))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=DatasetCreateSerializer, responses={201: DatasetSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = DatasetCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        project = _visible_project(request, fields.pop("project"))
        dataset = services.dataset_create(actor=acting_user(request), project=project, **fields)
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetVersionListView(generics.ListCreateAPIView[DatasetVersion]):
    """Versions of a dataset. POST a multipart ``file`` (CSV or Parquet), or JSON ``{"uri", "sha256"}``."""

    permission_classes = [IsAuthenticated]
    serializer_class = DatasetVersionSerializer
    parser_classes = [JSONBodyParser, parsers.MultiPartParser]

    def _dataset(self) -> Dataset:
        return get_object_or_404(
            selectors.datasets_visible_to(self.request.user).select_related("project"), pk=self.kwargs["dataset_id"]
        )

    def get_queryset(self) -> QuerySet[DatasetVersion]:
        return DatasetVersion.objects.filter(dataset=self._dataset()).select_related("created_by")

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
            "application/json": DatasetVersionLinkSerializer,
        },
        responses={201: DatasetVersionSerializer, 413: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        dataset = self._dataset()
        if request.content_type.startswith("multipart/"):
            files = request.FILES
            if upload_too_large(request):
                raise PayloadTooLarge(too_large_message())
            uploaded = files.get("file")
            if uploaded is None:
                raise exceptions.ValidationError({"file": ["Send the data as the multipart field “file”."]})
            version = services.dataset_version_upload(
                actor=acting_user(request),
                dataset=dataset,
                path=Path(uploaded.temporary_file_path()),
                original_name=uploaded.name or "upload",
            )
        else:
            data = DatasetVersionLinkSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            version = services.dataset_version_link(actor=acting_user(request), dataset=dataset, **data.validated_data)
        return Response(DatasetVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The upload is too large."
