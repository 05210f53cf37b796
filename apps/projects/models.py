"""AI use cases: the shared page of business, data science and IT."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.projects.choices import DataAccessStatus, KpiDirection, ProjectRole, ProjectStatus, RiskTier
from apps.projects.querysets import ProjectQuerySet


class Project(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=100, unique=True)
    business_objective = models.TextField(help_text="What the business wants to achieve, in plain words.")
    intended_users = models.TextField(blank=True)
    out_of_scope = models.TextField(blank=True, help_text="Uses this project must not be put to.")
    status = models.CharField(max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.PROPOSED)
    risk_tier = models.CharField(max_length=10, choices=RiskTier.choices, blank=True)
    risk_rationale = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=ProjectRole.choices)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project", "role", "user__username"]
        constraints = [models.UniqueConstraint(fields=["project", "user", "role"], name="membership_unique_role")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.project}"


class RoleGrant(models.Model):
    """Every role a person has been given in a project, kept when it is taken away.

    Independence rules ask who ever built or owned a project (a developer taken off the team and added
    back as validator is not independent); they read this table, not the audit trail, which stays the
    record of what happened rather than a source for queries.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="role_grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=ProjectRole.choices)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "granted_at", "pk"]
        indexes = [models.Index(fields=["project", "user"], name="rolegrant_project_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.project}"


class Kpi(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="kpis")
    name = models.CharField(max_length=120)
    target = models.DecimalField(max_digits=18, decimal_places=6)
    unit = models.CharField(max_length=30, blank=True)
    direction = models.CharField(max_length=10, choices=KpiDirection.choices, default=KpiDirection.HIGHER)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="kpi_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def latest_measurement(self) -> KpiMeasurement | None:
        """The newest measurement (from ``recent_measurements`` when a selector set it, else the prefetch)."""
        recent: list[KpiMeasurement] | None = getattr(self, "recent_measurements", None)
        if recent is not None:
            return recent[0] if recent else None
        measurements = list(self.measurements.all())
        return measurements[-1] if measurements else None

    @property
    def values_for_chart(self) -> list[float]:
        """The measured values in time order (the recent ones only, when a selector bounded them)."""
        recent: list[KpiMeasurement] | None = getattr(self, "recent_measurements", None)
        if recent is not None:
            return [float(m.value) for m in reversed(recent)]
        return [float(m.value) for m in self.measurements.all()]


class KpiMeasurement(models.Model):
    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="measurements")
    value = models.DecimalField(max_digits=18, decimal_places=6)
    measured_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["measured_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kpi}: {self.value}"


class DataNeed(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="data_needs")
    description = models.CharField(max_length=300)
    provider = models.CharField(max_length=120, blank=True, help_text="Who holds the data.")
    access_status = models.CharField(max_length=12, choices=DataAccessStatus.choices, default=DataAccessStatus.NEEDED)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.description


class Questionnaire(models.Model):
    """One version of the risk questionnaire. Questions are data: a new wording is a new version."""

    version = models.PositiveIntegerField(unique=True)
    questions = models.JSONField(help_text="[{key, text, help, choices: [{value, label, points, escalate}]}]")
    high_from = models.PositiveIntegerField(help_text="A score at or above this is high risk.")
    medium_from = models.PositiveIntegerField(help_text="A score at or above this is medium risk.")
    is_current = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["is_current"], condition=models.Q(is_current=True), name="one_current")
        ]

    def __str__(self) -> str:
        return f"Risk questionnaire v{self.version}"


class RiskQualification(models.Model):
    """Answers given for a project, with the tier they derived. A new answer set is a new row."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="qualifications")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField()
    score = models.PositiveIntegerField()
    tier = models.CharField(max_length=10, choices=RiskTier.choices)
    rationale = models.TextField()
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-answered_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.project}: {self.tier}"


class Comment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"
