"""A URL map with a view that fails, to see the API's 500 in the error shape."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from portal.urls import handler400, handler403, handler404, handler500

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


class Boom(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")


class Undeclared(APIView):
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never reached
        raise AssertionError("a view that names no permission must never run")


urlpatterns = [
    path("api/v1/boom/", Boom.as_view()),
    path("api/v1/undeclared/", Undeclared.as_view()),
    path("", include("portal.urls")),
]
