"""The bridge's API: connections (administrators), the intake list and claims (project owners)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import error_body
from apps.core.permissions import acting_user
from apps.integrations import selectors
from apps.integrations.api.serializers import (
    ClaimedSerializer,
    ClaimSerializer,
    ConnectionSerializer,
    ConnectionUpdateSerializer,
    IntakeModelSerializer,
    ReconcileRequestedSerializer,
    TestResultSerializer,
)
from apps.integrations.models import MlflowConnection, MlflowModel
from apps.integrations.permissions import CONNECTIONS_DENIED, can_manage_connections
from apps.integrations.services import connections, governing
from apps.projects.selectors import projects_visible_to


class _AdministratorsOnly:
    """Refuse non-administrators with 403 before any lookup, so nobody learns which connections exist."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # authentication first (401)
        if not can_manage_connections(request.user):
            self.permission_denied(request, CONNECTIONS_DENIED)  # type: ignore[attr-defined]


def _connection(request: Request, name: str) -> MlflowConnection:
    return get_object_or_404(selectors.connections_visible_to(request.user), name=name)


class ConnectionListView(_AdministratorsOnly, generics.ListCreateAPIView[MlflowConnection]):
    """MLflow tracking servers Signet governs (administrators). Secrets are named, never given."""

    permission_classes = [IsAuthenticated]
    serializer_class = ConnectionSerializer

    def get_queryset(self) -> QuerySet[MlflowConnection]:
        return selectors.connections_visible_to(self.request.user)

    @extend_schema(request=ConnectionSerializer, responses={201: ConnectionSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ConnectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        connection = connections.connection_create(actor=acting_user(request), **data.validated_data)
        return Response(
            ConnectionSerializer(_connection(request, connection.name)).data, status=status.HTTP_201_CREATED
        )


class ConnectionDetailView(_AdministratorsOnly, APIView):
    """One connection (administrators); PATCH changes the fields given. Its name never changes."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ConnectionSerializer)
    def get(self, request: Request, name: str) -> Response:
        return Response(ConnectionSerializer(_connection(request, name)).data)

    @extend_schema(request=ConnectionUpdateSerializer, responses=ConnectionSerializer)
    def patch(self, request: Request, name: str) -> Response:
        connection = _connection(request, name)
        data = ConnectionUpdateSerializer(connection, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        connections.connection_update(actor=acting_user(request), connection=connection, **data.validated_data)
        return Response(ConnectionSerializer(_connection(request, name)).data)


class ConnectionTestView(_AdministratorsOnly, APIView):
    """Test the connection now: reachable, authenticated, registry readable, webhooks, the webhook secret."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=TestResultSerializer)
    def post(self, request: Request, name: str) -> Response:
        results = connections.connection_test(actor=acting_user(request), connection=_connection(request, name))
        return Response(TestResultSerializer({"ok": all(r["ok"] for r in results), "checks": results}).data)


class ConnectionReconcileView(_AdministratorsOnly, APIView):
    """Queue a full reconcile of the connection's registry now (202); the connection shows its progress."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: ReconcileRequestedSerializer})
    def post(self, request: Request, name: str) -> Response:
        connections.connection_reconcile_request(actor=acting_user(request), connection=_connection(request, name))
        body = {"queued": True, "message": "A worker reads the whole registry now."}
        return Response(ReconcileRequestedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class IntakeListView(generics.ListAPIView[MlflowModel]):
    """MLflow models that no Signet project governs yet: names, tags, connection and version count."""

    permission_classes = [IsAuthenticated]
    serializer_class = IntakeModelSerializer

    def get_queryset(self) -> QuerySet[MlflowModel]:
        return selectors.intake_visible_to(self.request.user)


class IntakeClaimView(APIView):
    """Bring an intake model into a project you own (``{"project": "<slug>"}``); MLflow's versions follow."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ClaimSerializer, responses={201: ClaimedSerializer})
    def post(self, request: Request, mlflow_model_id: int) -> Response:
        mlflow_model = get_object_or_404(selectors.intake_visible_to(request.user), pk=mlflow_model_id)
        data = ClaimSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        slug = data.validated_data["project"]
        project = projects_visible_to(request.user).filter(slug=slug).first()
        if project is None:
            message = "There is no project with this slug that you can see."
            return Response(error_body("invalid", message, {"project": [message]}), status=status.HTTP_400_BAD_REQUEST)
        model = governing.model_claim(actor=acting_user(request), mlflow_model=mlflow_model, project=project)
        body = {"model": model.pk, "project": project.slug, "name": model.name}
        return Response(ClaimedSerializer(body).data, status=status.HTTP_201_CREATED)
