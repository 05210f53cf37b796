from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api import strict
from apps.core.api.fields import IdField, JSONObjectListField
from apps.workflows.choices import DecisionKind, FindingSeverity, FindingStatus, FindingType
from apps.workflows.evidence import evidence_digest, evidence_digests
from apps.workflows.models import Decision, Deployment, Finding, Review
from apps.workflows.stages import stage_states


class DecisionSerializer(strict.ModelSerializer[Decision]):
    decider = strict.CharField(source="decider.username", read_only=True)

    class Meta:
        model = Decision
        fields = ("id", "stage", "decider", "kind", "comment", "evidence_digest", "decided_at")
        read_only_fields = fields


class ReviewListSerializer(serializers.ListSerializer[Review]):
    """Reviews as a list: the evidence digests of all their versions are read at once, in two queries."""

    def to_representation(self, data: Any) -> list[Any]:
        reviews = list(data.all() if hasattr(data, "all") else data)
        cache: dict[int, str] = self.context.setdefault("evidence_digests", {})
        cache.update(evidence_digests(review.version for review in reviews if review.version_id not in cache))
        return super().to_representation(reviews)


class ReviewSerializer(strict.ModelSerializer[Review]):
    model = strict.CharField(source="version.model.name", read_only=True)
    version_number = strict.IntegerField(source="version.number", read_only=True)
    version_id = strict.IntegerField(source="version.pk", read_only=True)
    project = strict.CharField(source="version.model.project.slug", read_only=True)
    submitted_by = strict.CharField(
        source="submitted_by.username",
        read_only=True,
        allow_null=True,
        help_text="Empty for a scheduled re-certification",
    )
    evidence_digest = serializers.SerializerMethodField()
    stage_progress = serializers.SerializerMethodField()
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta:
        model = Review
        fields = (
            "id",
            "project",
            "model",
            "version_id",
            "version_number",
            "cycle",
            "status",
            "kind",
            "submitted_by",
            "opened_at",
            "closed_at",
            "expires_at",
            "evidence_digest",
            "stage_progress",
            "decisions",
        )
        read_only_fields = fields
        list_serializer_class = ReviewListSerializer

    def _digest(self, review: Review) -> str:
        """The version's evidence digest, computed once per review and response (it takes two queries)."""
        cache: dict[int, str] = self.context.setdefault("evidence_digests", {})
        if review.version_id not in cache:
            cache[review.version_id] = evidence_digest(review.version)
        return cache[review.version_id]

    def get_evidence_digest(self, review: Review) -> str:
        return self._digest(review)

    def get_stage_progress(self, review: Review) -> list[dict[str, Any]]:
        states = stage_states(review.stages, review.decisions.all(), self._digest(review))
        return [
            {"key": s.key, "name": s.name, "quorum": s.quorum, "approvals": len(s.approvals), "passed": s.passed}
            for s in states
        ]


class DecisionWriteSerializer(serializers.Serializer[dict[str, Any]]):
    kind = strict.ChoiceField(choices=DecisionKind.choices)
    comment = strict.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    evidence_digest = strict.RegexField(r"^[0-9a-f]{64}$", help_text="the digest of the evidence you reviewed")


class FindingSerializer(strict.ModelSerializer[Finding]):
    model = strict.CharField(source="model.name", read_only=True)
    owner = strict.CharField(source="owner.username", read_only=True)
    raised_by = strict.CharField(source="raised_by.username", read_only=True)

    class Meta:
        model = Finding
        fields = (
            "id",
            "model",
            "version",
            "kind",
            "severity",
            "title",
            "description",
            "remediation",
            "owner",
            "due_date",
            "status",
            "raised_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class FindingCreateSerializer(serializers.Serializer[dict[str, Any]]):
    model = IdField()
    version = IdField(required=False, allow_null=True)
    kind = strict.ChoiceField(choices=FindingType.choices)
    severity = strict.ChoiceField(choices=FindingSeverity.choices)
    title = strict.CharField(max_length=200)
    description = strict.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    remediation = strict.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    owner = strict.CharField(max_length=150)
    due_date = strict.DateField(required=False, allow_null=True)


class FindingUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    status = strict.ChoiceField(choices=FindingStatus.choices, required=False)
    remediation = strict.CharField(max_length=10_000, required=False, allow_blank=True)
    due_date = strict.DateField(required=False, allow_null=True)
    severity = strict.ChoiceField(choices=FindingSeverity.choices, required=False)
    reason = strict.CharField(max_length=5000, required=False, allow_blank=True, default="")


class DeploymentSerializer(strict.ModelSerializer[Deployment]):
    model = strict.CharField(source="version.model.name", read_only=True)
    version_number = strict.IntegerField(source="version.number", read_only=True)
    deployed_by = strict.CharField(source="deployed_by.username", read_only=True)

    class Meta:
        model = Deployment
        fields = (
            "id",
            "model",
            "version",
            "version_number",
            "environment",
            "deployed_by",
            "deployed_at",
            "notes",
            "artifact_sha256",
            "pipeline_url",
            "reported_by_pipeline",
        )
        read_only_fields = fields


class DeploymentCreateSerializer(serializers.Serializer[dict[str, Any]]):
    version = IdField()
    environment = strict.SlugField(max_length=40)
    notes = strict.CharField(max_length=5000, required=False, allow_blank=True, default="")
    artifact_sha256 = strict.RegexField(
        r"^[0-9a-f]{64}$",
        required=False,
        allow_blank=True,
        default="",
        help_text="the SHA-256 of the artifact the pipeline deployed (64 lowercase hexadecimal characters); "
        "a report the gate refuses raises an unapproved-deployment finding",
    )
    pipeline_url = strict.URLField(
        max_length=500, required=False, allow_blank=True, default="", help_text="the pipeline run, http or https"
    )


class GateSerializer(serializers.Serializer[dict[str, Any]]):
    allowed = strict.BooleanField()
    reasons = serializers.ListField(child=strict.CharField())
    model = strict.CharField(allow_null=True, help_text="the model's name in Signet; null when nothing was found")
    version = strict.IntegerField(allow_null=True, help_text="the version's number; null when nothing was found")
    environment = strict.CharField()
    artifact_sha256 = strict.CharField(
        allow_null=True, help_text="the digest compared with the approved artifact's; null when none was compared"
    )


class PolicySerializer(serializers.Serializer[Any]):
    tier = strict.CharField()
    version = strict.IntegerField(read_only=True)
    stages = JSONObjectListField(help_text="The ordered sign-off stages: role, quorum, independence")
    review_period_days = strict.IntegerField()
    grace_days = strict.IntegerField(
        required=False, help_text="Days the gate still allows an expired approval; the previous value when omitted"
    )
    requires_validation = strict.BooleanField(
        required=False, help_text="A passing validation run is needed to submit; the previous value when omitted"
    )
    environments = serializers.ListField(
        child=strict.CharField(max_length=100),
        max_length=100,
        required=False,
        help_text="Environment slugs an approval covers (at most 20); empty for any; the previous value when omitted",
    )
    is_current = strict.BooleanField(read_only=True)


class DelegationWriteSerializer(serializers.Serializer[dict[str, Any]]):
    username = strict.CharField(max_length=150)
    reason = strict.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RetireSerializer(serializers.Serializer[dict[str, Any]]):
    reason = strict.CharField(max_length=2000, help_text="Why the version leaves service")


class VersionMovesSerializer(serializers.Serializer[dict[str, Any]]):
    version = strict.IntegerField(help_text="the version's id")
    status = strict.CharField()
    moves = serializers.ListField(
        child=strict.CharField(),
        help_text="the lifecycle moves you may make now (submit, renew, deploy, retire), as the version page offers",
    )
