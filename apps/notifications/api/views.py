from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.permissions import acting_user
from apps.notifications import selectors, services, webhooks
from apps.notifications.api.serializers import (
    MarkReadSerializer,
    NotificationSerializer,
    WebhookCreatedSerializer,
    WebhookDeliverySerializer,
    WebhookSecretSerializer,
    WebhookSerializer,
)
from apps.notifications.filters import NotificationFilter
from apps.notifications.models import Notification, WebhookDelivery, WebhookSubscription
from apps.notifications.permissions import can_manage_webhooks


class NotificationListView(generics.ListAPIView[Notification]):
    """Your notifications, newest first; ``?unread=true`` for those you have not read."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer

    def get_queryset(self) -> QuerySet[Notification]:
        filters = NotificationFilter(self.request.query_params, queryset=selectors.notifications_for(self.request.user))
        if not filters.is_valid():
            raise exceptions.ValidationError({name: list(errors) for name, errors in filters.errors.items()})
        return filters.qs

    @extend_schema(parameters=[OpenApiParameter("unread", str, enum=["true", "false"])])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class NotificationReadView(APIView):
    """Mark some of your notifications read (``ids``), or all of them (``all: true``)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=MarkReadSerializer,
        responses={200: inline_serializer("MarkedRead", {"marked": serializers.IntegerField()})},
    )
    def post(self, request: Request) -> Response:
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = None if data.validated_data.get("all") else data.validated_data["ids"]
        marked = services.notifications_mark_read(actor=acting_user(request), ids=ids)
        return Response({"marked": marked})


NO_STORE = {"Cache-Control": "no-store"}  # an answer that shows a signing secret is kept by no cache


class WebhookListView(generics.ListCreateAPIView[WebhookSubscription]):
    """Outgoing webhook subscriptions (administrators). POST answers the signing secret, once."""

    permission_classes = [IsAuthenticated]
    serializer_class = WebhookSerializer

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return selectors.webhooks_visible_to(self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not can_manage_webhooks(request.user):
            self.permission_denied(request, "Only administrators manage webhooks.")
        return super().list(request, *args, **kwargs)

    @extend_schema(request=WebhookSerializer, responses={201: WebhookCreatedSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not can_manage_webhooks(request.user):
            self.permission_denied(request, "Only administrators manage webhooks.")
        data = WebhookSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhooks.webhook_create(
            actor=acting_user(request),
            url=data.validated_data["url"],
            events=data.validated_data["events"],
            description=data.validated_data.get("description", ""),
        )
        return Response(WebhookCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED, headers=NO_STORE)


class WebhookDetailView(generics.RetrieveUpdateAPIView[WebhookSubscription]):
    """One subscription (administrators); PATCH changes its address, events, description or is_active."""

    permission_classes = [IsAuthenticated]
    serializer_class = WebhookSerializer
    lookup_url_kwarg = "webhook_id"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return selectors.webhooks_visible_to(self.request.user)

    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subscription = self.get_object()
        data = WebhookSerializer(subscription, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        subscription = webhooks.webhook_update(
            actor=acting_user(request), subscription=subscription, **data.validated_data
        )
        return Response(WebhookSerializer(subscription).data)


class WebhookSecretView(APIView):
    """Replace a subscription's signing secret (administrators); the answer shows the new one, once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=WebhookSecretSerializer, responses={200: WebhookCreatedSerializer})
    def post(self, request: Request, webhook_id: int) -> Response:
        if not can_manage_webhooks(request.user):
            self.permission_denied(request, "Only administrators manage webhooks.")
        subscription = get_object_or_404(selectors.webhooks_visible_to(request.user), pk=webhook_id)
        data = WebhookSecretSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhooks.webhook_rotate_secret(
            actor=acting_user(request),
            subscription=subscription,
            keep_previous_hours=data.validated_data["keep_previous_hours"],
        )
        return Response(WebhookCreatedSerializer(subscription).data, headers=NO_STORE)


class WebhookDeliveryListView(generics.ListAPIView[WebhookDelivery]):
    """The delivery log of one subscription, newest first, with every attempt (administrators)."""

    permission_classes = [IsAuthenticated]
    serializer_class = WebhookDeliverySerializer

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        subscription = get_object_or_404(selectors.webhooks_visible_to(self.request.user), pk=self.kwargs["webhook_id"])
        return selectors.deliveries_visible_to(self.request.user).filter(subscription=subscription)
