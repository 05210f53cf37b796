from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api import strict
from apps.projects import permissions as can
from apps.projects import rules
from apps.projects.choices import ProjectRole, ProjectStatus, RiskTier
from apps.projects.models import Kpi, Membership, Project, RiskQualification


class KpiSerializer(strict.ModelSerializer[Kpi]):
    current = serializers.SerializerMethodField()

    class Meta:
        model = Kpi
        fields = ("id", "name", "target", "unit", "direction", "current")

    def get_current(self, kpi: Kpi) -> str | None:
        latest = kpi.latest_measurement
        return str(latest.value) if latest else None


class ProjectSerializer(strict.ModelSerializer[Project]):
    kpis = KpiSerializer(many=True, read_only=True)
    risk_tier = strict.ChoiceField(
        choices=RiskTier.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty until the questionnaire is answered",
    )
    my_roles = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = (
            "slug",
            "name",
            "business_objective",
            "intended_users",
            "out_of_scope",
            "status",
            "risk_tier",
            "risk_rationale",
            "kpis",
            "my_roles",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_my_roles(self, project: Project) -> list[str]:
        mine = getattr(project, "my_memberships", None)  # prefetched for lists: one query per page
        if mine is not None:
            return sorted({m.role for m in mine})
        return sorted(can.roles_in(self.context["request"].user, project))


class ProjectCreateSerializer(serializers.Serializer[dict[str, Any]]):
    name = strict.CharField(max_length=rules.PROJECT_NAME_MAX_CHARS)
    slug = strict.SlugField(max_length=rules.PROJECT_SLUG_MAX_CHARS, required=False, allow_blank=True)
    business_objective = strict.CharField(max_length=rules.PROJECT_TEXT_MAX_CHARS)
    intended_users = strict.CharField(max_length=rules.PROJECT_TEXT_MAX_CHARS, required=False, allow_blank=True)
    out_of_scope = strict.CharField(max_length=rules.PROJECT_TEXT_MAX_CHARS, required=False, allow_blank=True)


class ProjectUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    name = strict.CharField(max_length=rules.PROJECT_NAME_MAX_CHARS, required=False)
    business_objective = strict.CharField(max_length=rules.PROJECT_TEXT_MAX_CHARS, required=False)
    intended_users = strict.CharField(max_length=rules.PROJECT_TEXT_MAX_CHARS, required=False, allow_blank=True)
    out_of_scope = strict.CharField(max_length=rules.PROJECT_TEXT_MAX_CHARS, required=False, allow_blank=True)
    status = strict.ChoiceField(choices=ProjectStatus.choices, required=False)


class MembershipSerializer(strict.ModelSerializer[Membership]):
    username = strict.CharField(source="user.username", read_only=True)
    added_by = strict.CharField(source="added_by.username", read_only=True, default=None)

    class Meta:
        model = Membership
        fields = ("id", "username", "role", "added_by", "added_at")
        read_only_fields = fields


class MembershipWriteSerializer(serializers.Serializer[dict[str, Any]]):
    username = strict.CharField(max_length=rules.USERNAME_MAX_CHARS)
    role = strict.ChoiceField(choices=ProjectRole.choices)


class QualificationSerializer(strict.ModelSerializer[RiskQualification]):
    questionnaire_version = strict.IntegerField(source="questionnaire.version", read_only=True)
    answered_by = strict.CharField(source="answered_by.username", read_only=True)

    class Meta:
        model = RiskQualification
        fields = ("questionnaire_version", "answers", "score", "tier", "rationale", "answered_by", "answered_at")
        read_only_fields = fields


class QualificationWriteSerializer(serializers.Serializer[dict[str, Any]]):
    answers = serializers.DictField(child=strict.CharField(max_length=64, allow_blank=True))
