from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api.fields import IdField, JSONObjectListField
from apps.workflows.choices import DecisionKind, FindingSeverity, FindingStatus, FindingType
from apps.workflows.models import Decision, Deployment, Finding, Review
from apps.workflows.services import evidence_digest, stage_states


class DecisionSerializer(serializers.ModelSerializer[Decision]):
    decider = serializers.CharField(source="decider.username", read_only=True)

    class Meta:
        model = Decision
        fields = ("id", "stage", "decider", "kind", "comment", "evidence_digest", "decided_at")
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer[Review]):
    model = serializers.CharField(source="version.model.name", read_only=True)
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    version_id = serializers.IntegerField(source="version.pk", read_only=True)
    project = serializers.CharField(source="version.model.project.slug", read_only=True)
    submitted_by = serializers.CharField(
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

    def _digest(self, review: Review) -> str:
        """The version's evidence digest, computed once per review and response (it takes two queries)."""
        cache: dict[int, str] = self.context.setdefault("evidence_digests", {})
        if review.version_id not in cache:
            cache[review.version_id] = evidence_digest(review.version)
        return cache[review.version_id]

    def get_evidence_digest(self, review: Review) -> str:
        return self._digest(review)

    def get_stage_progress(self, review: Review) -> list[dict[str, Any]]:
        states = stage_states(review, self._digest(review))
        return [
            {"key": s.key, "name": s.name, "quorum": s.quorum, "approvals": len(s.approvals), "passed": s.passed}
            for s in states
        ]


class DecisionWriteSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.ChoiceField(choices=DecisionKind.choices)
    comment = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    evidence_digest = serializers.RegexField(r"^[0-9a-f]{64}$", help_text="the digest of the evidence you reviewed")


class FindingSerializer(serializers.ModelSerializer[Finding]):
    model = serializers.CharField(source="model.name", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    raised_by = serializers.CharField(source="raised_by.username", read_only=True)

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
    kind = serializers.ChoiceField(choices=FindingType.choices)
    severity = serializers.ChoiceField(choices=FindingSeverity.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    remediation = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    owner = serializers.CharField(max_length=150)
    due_date = serializers.DateField(required=False, allow_null=True)


class FindingUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.ChoiceField(choices=FindingStatus.choices, required=False)
    remediation = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    severity = serializers.ChoiceField(choices=FindingSeverity.choices, required=False)
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class DeploymentSerializer(serializers.ModelSerializer[Deployment]):
    model = serializers.CharField(source="version.model.name", read_only=True)
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    deployed_by = serializers.CharField(source="deployed_by.username", read_only=True)

    class Meta:
        model = Deployment
        fields = ("id", "model", "version", "version_number", "environment", "deployed_by", "deployed_at", "notes")
        read_only_fields = fields


class DeploymentCreateSerializer(serializers.Serializer[dict[str, Any]]):
    version = IdField()
    environment = serializers.SlugField(max_length=40)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class GateSerializer(serializers.Serializer[dict[str, Any]]):
    allowed = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class PolicySerializer(serializers.Serializer[Any]):
    tier = serializers.CharField()
    version = serializers.IntegerField(read_only=True)
    stages = JSONObjectListField(help_text="The ordered sign-off stages: role, quorum, independence")
    review_period_days = serializers.IntegerField()
    grace_days = serializers.IntegerField(
        required=False, help_text="Days the gate still allows an expired approval; the previous value when omitted"
    )
    requires_validation = serializers.BooleanField(
        required=False, help_text="A passing validation run is needed to submit; the previous value when omitted"
    )
    is_current = serializers.BooleanField(read_only=True)


class DelegationWriteSerializer(serializers.Serializer[dict[str, Any]]):
    username = serializers.CharField(max_length=150)
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RetireSerializer(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(max_length=2000, help_text="Why the version leaves service")
