from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import active_user_by_username
from apps.core.api.lookups import visible_or_invalid
from apps.core.permissions import acting_user
from apps.projects.choices import RiskTier
from apps.registry import selectors as registry_selectors
from apps.registry.api.serializers import ModelVersionSerializer
from apps.workflows import lifecycle, references, selectors, services
from apps.workflows.api.serializers import (
    DecisionSerializer,
    DecisionWriteSerializer,
    DelegationWriteSerializer,
    DeploymentCreateSerializer,
    DeploymentSerializer,
    FindingCreateSerializer,
    FindingSerializer,
    FindingUpdateSerializer,
    GateSerializer,
    PolicySerializer,
    RetireSerializer,
    ReviewSerializer,
    VersionMovesSerializer,
)
from apps.workflows.filters import FindingFilter, ReviewFilter
from apps.workflows.models import Deployment, Finding, Review
from apps.workflows.references import MAX_REFERENCE_LENGTH


class VersionSubmitView(APIView):
    """Submit a version for review (needs a complete model card for the project's tier)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: ReviewSerializer})
    def post(self, request: Request, version_id: int) -> Response:
        version = get_object_or_404(registry_selectors.versions_visible_to(request.user), pk=version_id)
        review = services.version_submit(actor=acting_user(request), version=version)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class ReviewListView(generics.ListAPIView[Review]):
    """Reviews you can see; ``?assigned=me`` lists those waiting for your decision now."""

    permission_classes = [IsAuthenticated]
    serializer_class = ReviewSerializer

    filter_backends = [DjangoFilterBackend]
    filterset_class = ReviewFilter

    def get_queryset(self) -> QuerySet[Review]:
        return selectors.reviews_visible_to(self.request.user).prefetch_related("decisions__decider")

    @extend_schema(parameters=[OpenApiParameter("assigned", str, enum=["me"])])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ReviewDetailView(generics.RetrieveAPIView[Review]):
    permission_classes = [IsAuthenticated]
    serializer_class = ReviewSerializer
    lookup_url_kwarg = "review_id"

    def get_queryset(self) -> QuerySet[Review]:
        return selectors.reviews_visible_to(self.request.user).prefetch_related("decisions__decider")


class DecisionView(APIView):
    """Approve, reject or request changes on the review's current stage, on the evidence you saw."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=DecisionWriteSerializer, responses={201: DecisionSerializer})
    def post(self, request: Request, review_id: int) -> Response:
        review = get_object_or_404(selectors.reviews_visible_to(request.user), pk=review_id)
        data = DecisionWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.review_decide(
            actor=acting_user(request),
            review=review,
            kind=data.validated_data["kind"],
            comment=data.validated_data["comment"],
            evidence_digest_seen=data.validated_data["evidence_digest"],
        )
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class FindingListView(generics.ListCreateAPIView[Finding]):
    permission_classes = [IsAuthenticated]
    serializer_class = FindingSerializer

    filter_backends = [DjangoFilterBackend]
    filterset_class = FindingFilter

    def get_queryset(self) -> QuerySet[Finding]:
        return selectors.findings_visible_to(self.request.user)

    @extend_schema(request=FindingCreateSerializer, responses={201: FindingSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = FindingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        model = visible_or_invalid(
            registry_selectors.models_visible_to(request.user), "model", "model", pk=given["model"]
        )
        version_id = given.get("version")
        version = model.versions.filter(pk=version_id).first() if version_id else None
        if version_id and version is None:
            raise exceptions.ValidationError({"version": ["No version of this model has this id."]})
        owner = active_user_by_username(given["owner"])
        if owner is None:
            raise exceptions.ValidationError({"owner": ["No active person with this username."]})
        finding = services.finding_raise(
            actor=acting_user(request),
            model=model,
            version=version,
            owner=owner,
            kind=given["kind"],
            severity=given["severity"],
            title=given["title"],
            description=given["description"],
            remediation=given["remediation"],
            due_date=given.get("due_date"),
        )
        return Response(FindingSerializer(finding).data, status=status.HTTP_201_CREATED)


class FindingDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=FindingSerializer)
    def get(self, request: Request, finding_id: int) -> Response:
        return Response(
            FindingSerializer(get_object_or_404(selectors.findings_visible_to(request.user), pk=finding_id)).data
        )

    @extend_schema(request=FindingUpdateSerializer, responses=FindingSerializer)
    def patch(self, request: Request, finding_id: int) -> Response:
        finding = get_object_or_404(selectors.findings_visible_to(request.user), pk=finding_id)
        data = FindingUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        finding = services.finding_update(
            actor=acting_user(request),
            finding=finding,
            reason=given.get("reason", ""),
            # A field left out of the PATCH stays as it is.
            status=given.get("status", services.UNSET),
            remediation=given.get("remediation", services.UNSET),
            due_date=given.get("due_date", services.UNSET),
            severity=given.get("severity", services.UNSET),
        )
        return Response(FindingSerializer(finding).data)


class DeploymentListView(generics.ListCreateAPIView[Deployment]):
    """Deployments you can see; POST records one (IT operations; refused unless the gate allows).

    A pipeline reports what it deployed with ``artifact_sha256`` (and ``pipeline_url``): when the gate
    refuses the report, the answer is a 400 with its reasons and Signet raises a high
    ``unapproved_deployment`` finding on the version.
    """

    permission_classes = [IsAuthenticated]
    serializer_class = DeploymentSerializer

    def get_queryset(self) -> QuerySet[Deployment]:
        return selectors.deployments_visible_to(self.request.user)

    @extend_schema(request=DeploymentCreateSerializer, responses={201: DeploymentSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = DeploymentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = visible_or_invalid(
            registry_selectors.versions_visible_to(request.user),
            "version",
            "model version",
            pk=data.validated_data["version"],
        )
        deployment = services.deployment_record(
            actor=acting_user(request),
            version=version,
            environment=data.validated_data["environment"],
            notes=data.validated_data["notes"],
            artifact_sha256=data.validated_data["artifact_sha256"],
            pipeline_url=data.validated_data["pipeline_url"],
        )
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)


SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class GateView(APIView):
    """For CI/CD: may this model version (and this artifact) be deployed to this environment?

    Name the version by ``model`` and ``version``, or by a ``reference`` another registry knows it by
    (``models:/name@alias``, resolved through ``apps.workflows.references``), not both. With
    ``artifact_sha256`` (or a reference whose registry knows the artifact's digest) the gate also
    refuses an artifact other than the approved one.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "model", {"type": "string", "minLength": 1}, description="model name; with version, or give reference"
            ),
            OpenApiParameter(
                "version",
                {"type": "integer", "minimum": 0, "maximum": 999_999_999},
                description="version number; with model, or give reference",
            ),
            OpenApiParameter(
                "reference",
                {"type": "string", "minLength": 1, "maxLength": MAX_REFERENCE_LENGTH},
                description="instead of model and version: a reference such as models:/name@alias or models:/name/3",
            ),
            OpenApiParameter(
                "environment", {"type": "string", "minLength": 1}, required=True, description="such as production"
            ),
            OpenApiParameter(
                "artifact_sha256",
                {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                description="the SHA-256 of the artifact about to be deployed, 64 lowercase hexadecimal characters",
            ),
        ],
        responses=GateSerializer,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        model, number = params.get("model", ""), params.get("version", "")
        reference, environment = params.get("reference", ""), params.get("environment", "")
        digest = params.get("artifact_sha256") or None
        if not environment:
            raise exceptions.ValidationError({"environment": ["This parameter is required."]})
        if reference and (model or number):
            raise exceptions.ValidationError(
                {"reference": ["Name the version either by model and version or by reference, not both."]}
            )
        if not reference and not model and not number:
            raise exceptions.ValidationError(
                {"reference": ["Name the version: give model and version, or a reference such as models:/name@alias."]}
            )
        if digest is not None and not SHA256_HEX.fullmatch(digest):
            raise exceptions.ValidationError(
                {"artifact_sha256": ["Give the artifact's SHA-256 as 64 lowercase hexadecimal characters."]}
            )
        environment = environment[:40]
        answer: dict[str, Any] = {"environment": environment, "artifact_sha256": digest}
        if reference:
            try:
                resolved = references.resolve(request.user, reference)
            except references.ReferenceNotFound as exc:
                return Response({"allowed": False, "reasons": [exc.message], **answer, "model": None, "version": None})
            except references.UnresolvedReference as exc:
                raise exceptions.ValidationError({"reference": [exc.message]}) from exc
            version = resolved.version
            digest = digest or resolved.artifact_sha256
        else:
            missing = [name for name, value in (("model", model), ("version", number)) if not value]
            if missing:
                raise exceptions.ValidationError({name: ["This parameter is required."] for name in missing})
            if not re.fullmatch(r"[0-9]{1,9}", number):
                raise exceptions.ValidationError({"version": ["Give the version number, such as 3."]})
            found = (
                registry_selectors.versions_visible_to(request.user)
                .select_related("model__project")
                .filter(model__name=model, number=int(number))
                .first()
            )
            if found is None:
                reason = f"No version {number} of a model named {model[:100]} that you can see."
                return Response({"allowed": False, "reasons": [reason], **answer, "model": None, "version": None})
            version = found
        result = services.gate_check(version=version, environment=environment, artifact_sha256=digest)
        return Response(
            {
                "allowed": result.allowed,
                "reasons": result.reasons,
                "model": version.model.name,
                "version": version.number,
                "environment": environment,
                "artifact_sha256": digest,
            }
        )


class PolicyListView(APIView):
    """The approval policies in force; POST publishes a new version of a tier's policy."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PolicySerializer(many=True))
    def get(self, request: Request) -> Response:
        policies = [services.policy_in_force(tier) for tier in RiskTier.values]
        return Response(PolicySerializer(policies, many=True).data)

    @extend_schema(request=PolicySerializer, responses={201: PolicySerializer})
    def post(self, request: Request) -> Response:
        data = PolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.policy_publish(
            actor=acting_user(request),
            tier=data.validated_data["tier"],
            stages=data.validated_data["stages"],
            review_period_days=data.validated_data["review_period_days"],
            grace_days=data.validated_data.get("grace_days"),
            requires_validation=data.validated_data.get("requires_validation"),
            environments=data.validated_data.get("environments"),
        )
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class DelegationView(APIView):
    """Hand your pending decision on this review to another person who may sign the same stage."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=DelegationWriteSerializer, responses={201: None})
    def post(self, request: Request, review_id: int) -> Response:
        review = get_object_or_404(selectors.reviews_visible_to(request.user), pk=review_id)
        data = DelegationWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        to_user = active_user_by_username(data.validated_data["username"])
        if to_user is None:
            raise exceptions.ValidationError({"username": ["No active person with this username."]})
        services.review_delegate(
            actor=acting_user(request), review=review, to_user=to_user, reason=data.validated_data["reason"]
        )
        return Response({"delegated_to": to_user.username}, status=status.HTTP_201_CREATED)


class VersionRetireView(APIView):
    """Retire a version (project owners and IT operations); the gate refuses it from then on."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=RetireSerializer, responses={200: ModelVersionSerializer})
    def post(self, request: Request, version_id: int) -> Response:
        version = get_object_or_404(registry_selectors.versions_visible_to(request.user), pk=version_id)
        data = RetireSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.version_retire(
            actor=acting_user(request), version=version, reason=data.validated_data["reason"]
        )
        return Response(ModelVersionSerializer(version).data)


class VersionMovesView(APIView):
    """The lifecycle moves you may make on this version now: exactly what the services accept."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=VersionMovesSerializer)
    def get(self, request: Request, version_id: int) -> Response:
        version = get_object_or_404(registry_selectors.versions_visible_to(request.user), pk=version_id)
        data = {"version": version.pk, "status": version.status, "moves": lifecycle.moves_for(request.user, version)}
        return Response(VersionMovesSerializer(data).data)
