"""Approval policies, reviews and their decisions, findings, deployments."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.projects.choices import RiskTier
from apps.registry.models import ModelVersion, RegisteredModel, sha256_validator
from apps.workflows.choices import DecisionKind, FindingSeverity, FindingStatus, FindingType, ReviewKind, ReviewStatus


class ApprovalPolicy(models.Model):
    """Ordered sign-off stages for a risk tier. A change is a new version; reviews keep a snapshot."""

    tier = models.CharField(max_length=10, choices=RiskTier.choices)
    version = models.PositiveIntegerField()
    stages = models.JSONField(help_text="[{key, name, project_role, team, quorum, independent}] in order")
    review_period_days = models.PositiveIntegerField(default=365)
    grace_days = models.PositiveIntegerField(
        default=0, help_text="Days the gate still allows an expired approval while re-certification runs"
    )
    requires_validation = models.BooleanField(
        default=False, help_text="A passing validation run of the version is needed to submit it"
    )
    environments = models.JSONField(
        default=list, blank=True, help_text="Environment slugs an approval covers; empty for any environment"
    )
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tier", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "version"], name="policy_unique_version"),
            models.UniqueConstraint(fields=["tier"], condition=models.Q(is_current=True), name="policy_one_current"),
        ]

    def __str__(self) -> str:
        return f"{self.get_tier_display()} risk policy v{self.version}"


class Review(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="reviews")
    cycle = models.PositiveIntegerField()
    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.PROTECT, related_name="+")
    stages = models.JSONField(help_text="The policy's stages when the review opened")
    review_period_days = models.PositiveIntegerField()
    grace_days = models.PositiveIntegerField(default=0)
    environments = models.JSONField(default=list, blank=True, help_text="The policy's environments when it opened")
    kind = models.CharField(max_length=20, choices=ReviewKind.choices, default=ReviewKind.SUBMISSION)
    status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Empty for a re-certification the schedule opened",
    )
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    approved_digest = models.CharField(max_length=64, blank=True, help_text="The evidence the approval covers")
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["version", "cycle"], name="review_unique_cycle")]
        # The open reviews newest first (the home page's inbox reads them a batch at a time).
        indexes = [models.Index(fields=["status", "-opened_at", "-id"], name="review_status_opened")]

    def __str__(self) -> str:
        return f"Review {self.cycle} of {self.version}"


class Decision(models.Model):
    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="decisions")
    stage = models.CharField(max_length=40)
    decider = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=DecisionKind.choices)
    comment = models.TextField(blank=True)
    evidence_digest = models.CharField(max_length=64)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "pk"]
        # One person never fills two slots of one review, even when two requests race.
        # One place per person on the evidence in force; if the evidence changes mid-review (a validation
        # run fails), earlier approvals stop counting and the same people may decide again.
        constraints = [
            models.UniqueConstraint(fields=["review", "decider", "evidence_digest"], name="decision_one_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.decider} {self.kind} {self.stage}"


class Finding(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="findings")
    version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="findings")
    kind = models.CharField(max_length=30, choices=FindingType.choices)
    severity = models.CharField(max_length=10, choices=FindingSeverity.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    remediation = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # What raised it, when Signet did ("validation-suite:12:failed"); empty for findings people raise.
    source = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The findings a person owns in a status, soonest due first (the home page).
        indexes = [models.Index(fields=["owner", "status", "due_date", "id"], name="finding_owner_status_due")]
        constraints = [
            # A schedule that keeps failing keeps one finding open, not one per run.
            models.UniqueConstraint(
                fields=["version", "source"],
                condition=Q(status__in=["open", "remediated"]) & ~Q(source=""),
                name="finding_one_open_per_source",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Deployment(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="deployments")
    environment = models.SlugField(max_length=40)
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    deployed_at = models.DateTimeField(default=timezone.now)
    notes = models.TextField(blank=True)
    # What the pipeline said it deployed and where its run is; blank when a person recorded it by hand.
    artifact_sha256 = models.CharField(max_length=64, blank=True, validators=[sha256_validator])
    pipeline_url = models.URLField(max_length=500, blank=True, validators=[URLValidator(schemes=["http", "https"])])
    reported_by_pipeline = models.BooleanField(default=False)

    class Meta:
        ordering = ["-deployed_at", "-pk"]
        # What is in service: the latest deployment of a version to an environment (selectors.in_service).
        indexes = [
            models.Index(fields=["version", "environment", "-deployed_at"], name="deployment_version_env_latest")
        ]

    def __str__(self) -> str:
        return f"{self.version} in {self.environment}"


class Delegation(models.Model):
    """A reviewer hands their pending decision on a review to another eligible person."""

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="delegations")
    stage = models.CharField(max_length=40)
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["review", "from_user"], name="delegation_once_per_person")]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user} ({self.stage})"
