from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import active_user_by_username
from apps.core.errors import error_body
from apps.core.filters import filter_parameters
from apps.core.permissions import acting_user, require
from apps.projects import permissions as can
from apps.projects import selectors, services
from apps.projects.api.serializers import (
    MembershipSerializer,
    MembershipWriteSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    QualificationSerializer,
    QualificationWriteSerializer,
)
from apps.projects.choices import ProjectRole
from apps.projects.filters import ProjectFilter
from apps.projects.models import Kpi, Membership, Project

if TYPE_CHECKING:
    from apps.accounts.models import User


def _with_kpis(projects: QuerySet[Project], user: User) -> QuerySet[Project]:
    return projects.prefetch_related(
        # The API gives each KPI's current value: its newest measurement, not its whole history.
        Prefetch("kpis", queryset=Kpi.objects.prefetch_related(selectors.recent_measurements(points=1))),
        Prefetch("memberships", queryset=Membership.objects.filter(user=user), to_attr="my_memberships"),
    )


class ProjectListView(generics.ListCreateAPIView[Project]):
    """Projects you can see (members; auditors and administrators see all). POST proposes one."""

    permission_classes = [IsAuthenticated]
    serializer_class = ProjectSerializer

    def get_queryset(self) -> QuerySet[Project]:
        projects = selectors.project_list(user=self.request.user, filters=self.request.query_params)
        return _with_kpis(projects, acting_user(self.request))

    @extend_schema(parameters=filter_parameters(ProjectFilter))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ProjectCreateSerializer, responses={201: ProjectSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(actor=acting_user(request), **data.validated_data)
        body = ProjectSerializer(
            _with_kpis(Project.objects.filter(pk=project.pk), acting_user(request)).get(), context={"request": request}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    permission_classes = [IsAuthenticated]

    def _project(self, request: Request, slug: str) -> Project:
        return get_object_or_404(
            _with_kpis(selectors.projects_visible_to(request.user), acting_user(request)), slug=slug
        )

    @extend_schema(responses=ProjectSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(ProjectSerializer(self._project(request, slug), context={"request": request}).data)

    @extend_schema(request=ProjectUpdateSerializer, responses=ProjectSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        project = self._project(request, slug)
        data = ProjectUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.project_update(actor=acting_user(request), project=project, **data.validated_data)
        return Response(ProjectSerializer(self._project(request, slug), context={"request": request}).data)


class MembershipView(generics.ListAPIView[Membership]):
    """The project's team. POST gives a role, DELETE takes one (``username`` and ``role``)."""

    permission_classes = [IsAuthenticated]
    serializer_class = MembershipSerializer

    def get_queryset(self) -> QuerySet[Membership]:
        project = selectors.project_get(user=self.request.user, slug=self.kwargs["slug"])
        return selectors.memberships_of(project)

    @extend_schema(request=MembershipWriteSerializer, responses={201: MembershipSerializer})
    def post(self, request: Request, slug: str) -> Response:
        project = selectors.project_get(user=request.user, slug=slug)
        require(can.can_manage_members(request.user, project), "Only the project's owners manage its team.")
        data = MembershipWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = active_user_by_username(data.validated_data["username"])
        if user is None:
            return Response(
                error_body("invalid", "There is no active person with this username.", {"username": ["Unknown."]}),
                status=400,
            )
        membership = services.membership_add(
            actor=acting_user(request), project=project, user=user, role=data.validated_data["role"]
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("username", {"type": "string", "minLength": 1, "maxLength": 150}, required=True),
            OpenApiParameter("role", str, required=True, enum=ProjectRole.values),
        ],
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, slug: str) -> Response:
        project = selectors.project_get(user=request.user, slug=slug)
        source = request.data if isinstance(request.data, dict) and request.data else request.query_params
        data = MembershipWriteSerializer(data={"username": source.get("username"), "role": source.get("role")})
        data.is_valid(raise_exception=True)
        membership = get_object_or_404(
            Membership.objects.filter(project=project).select_related("user", "project"),
            user__username=data.validated_data["username"],
            role=data.validated_data["role"],
        )
        services.membership_remove(actor=acting_user(request), membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


QualificationResponse = inline_serializer(
    "QualificationResponse",
    fields={
        "questionnaire": inline_serializer(
            "QuestionnaireBody", fields={"version": serializers.IntegerField(), "questions": serializers.JSONField()}
        ),
        "current": QualificationSerializer(allow_null=True),
    },
)


class QualificationView(APIView):
    """The risk questionnaire in force and the project's current answers; PUT answers it."""

    permission_classes = [IsAuthenticated]

    def _body(self, project: Project) -> dict[str, Any]:
        questionnaire = services.current_questionnaire()
        latest = project.qualifications.select_related("questionnaire", "answered_by").first()
        return {
            "questionnaire": {"version": questionnaire.version, "questions": questionnaire.questions},
            "current": QualificationSerializer(latest).data if latest else None,
        }

    @extend_schema(responses=QualificationResponse)
    def get(self, request: Request, slug: str) -> Response:
        return Response(self._body(selectors.project_get(user=request.user, slug=slug)))

    @extend_schema(request=QualificationWriteSerializer, responses=QualificationResponse)
    def put(self, request: Request, slug: str) -> Response:
        project = selectors.project_get(user=request.user, slug=slug)
        data = QualificationWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.qualification_submit(
            actor=acting_user(request), project=project, answers=data.validated_data["answers"]
        )
        return Response(self._body(project))
