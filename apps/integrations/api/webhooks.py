"""The receiver of MLflow's webhooks: ``POST /api/v1/mlflow/{connection}/webhook/`` (docs/decisions/0023).

MLflow signs its deliveries instead of authenticating: no session, no token, no CSRF. The body is
read raw (at most ``MAX_BODY_BYTES`` and one byte), because the signature covers its exact bytes; the
service verifies it and answers fast, leaving MLflow's REST API to a worker.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import strict
from apps.integrations.services import webhooks

ERROR = {"$ref": "#/components/schemas/Error"}
PAYLOAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "What MLflow sends (mlflow/webhooks/delivery.py): the event and its data. The signature covers "
    "the exact bytes of the body.",
    "properties": {
        "entity": {"type": "string", "example": "model_version_alias"},
        "action": {"type": "string", "example": "created"},
        "timestamp": {"type": "string", "description": "MLflow's ISO-8601 time of the event"},
        "data": {
            "type": "object",
            "additionalProperties": True,
            "example": {"name": "churn", "alias": "champion", "version": "3"},
        },
    },
    "required": ["entity", "action", "data"],
}
Answer = inline_serializer(
    "MlflowWebhookAnswer",
    fields={
        "status": strict.ChoiceField(choices=["queued", "duplicate", "ignored"]),
        "delivery": strict.IntegerField(required=False, help_text="Signet's id of the stored delivery"),
    },
)


def _header(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, {"type": "string", "minLength": 1}, OpenApiParameter.HEADER, required=True, description=description
    )


class Refused(exceptions.APIException):
    """A ``DeliveryRefused`` in the API's error shape."""

    def __init__(self, refusal: webhooks.DeliveryRefused) -> None:
        super().__init__(detail=refusal.message, code=refusal.code)
        self.status_code = refusal.status


class MlflowWebhookView(APIView):
    """Receive one webhook delivery from the MLflow server of connection ``connection`` (its name)."""

    authentication_classes: list[Any] = []  # MLflow signs each delivery; no session, so no CSRF either
    permission_classes = [AllowAny]  # the signature, checked by the service, is the authentication
    # The default throttles stay: the per-address one counts every delivery, as for any anonymous call.

    @extend_schema(
        operation_id="mlflow_webhook_receive",
        summary="Receive an MLflow webhook delivery",
        description="Verifies X-MLflow-Signature (HMAC-SHA256 of `<id>.<timestamp>.<body>` with the webhook's "
        "secret) and a timestamp within 5 minutes, stores the delivery once per id and queues the re-read of "
        "the model it names. A delivery id already received answers 200 `duplicate`; MLflow events Signet does "
        "not govern (prompts, budgets) answer 200 `ignored`.",
        auth=[],
        parameters=[
            OpenApiParameter("connection", {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}, OpenApiParameter.PATH),
            _header(webhooks.ID_HEADER, "MLflow's delivery id (a retry sends the same)"),
            _header(webhooks.TIMESTAMP_HEADER, "Unix seconds when MLflow signed the delivery"),
            _header(webhooks.SIGNATURE_HEADER, "v1,<base64 HMAC-SHA256>"),
        ],
        request={"application/json": PAYLOAD_SCHEMA},
        responses={
            202: OpenApiResponse(Answer, description="Stored; a worker re-reads the model it names."),
            200: OpenApiResponse(Answer, description="A delivery already received, or an event Signet ignores."),
            401: OpenApiResponse(ERROR, description="Unsigned, a bad signature, or a stale or future timestamp."),
            409: OpenApiResponse(ERROR, description="This delivery id came before with another body."),
            503: OpenApiResponse(ERROR, description="The connection's webhook secret is not available to Signet."),
        },
    )
    def post(self, request: Request, connection: str) -> Response:
        try:
            found = webhooks.connection_for_webhook(connection)
            body = _read_body(request)
            delivery, created = webhooks.delivery_receive(connection=found, headers=request.headers, body=body)
        except webhooks.DeliveryRefused as refusal:
            raise Refused(refusal) from None
        except webhooks.DeliveryIgnored:
            return Response({"status": "ignored"}, status=status.HTTP_200_OK)
        if not created:
            return Response({"status": "duplicate", "delivery": delivery.pk}, status=status.HTTP_200_OK)
        return Response({"status": "queued", "delivery": delivery.pk}, status=status.HTTP_202_ACCEPTED)


def _read_body(request: Request) -> bytes:
    """The raw body, reading no more than one byte past the limit; DeliveryRefused when it is too large."""
    limit = webhooks.MAX_BODY_BYTES
    too_large = webhooks.DeliveryRefused(413, "too_large", f"The body is larger than {limit // 1024} KB.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    media = (request.content_type or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise exceptions.UnsupportedMediaType(media or "none")
    body = request._request.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body
