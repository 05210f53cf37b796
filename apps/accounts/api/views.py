from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.serializers import MeSerializer
from apps.accounts.models import User


class MeView(APIView):
    """Who the caller is: identity, teams and roles."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        assert isinstance(request.user, User)  # IsAuthenticated let only a signed-in person through
        user = User.objects.prefetch_related("teams").get(pk=request.user.pk)
        return Response(MeSerializer(user).data)
