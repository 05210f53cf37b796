"""Registered models, their versions and model cards; the data catalogue."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from apps.projects.models import Project
from apps.registry.choices import FileFormat, ModelTask, Sensitivity, VersionStatus
from apps.registry.querysets import (
    DatasetQuerySet,
    DatasetVersionQuerySet,
    ModelVersionQuerySet,
    RegisteredModelQuerySet,
)

sha256_validator = RegexValidator(r"^[0-9a-f]{64}$", "A SHA-256 is 64 lowercase hexadecimal characters.")


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegisteredModel(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="models")
    name = models.SlugField(
        max_length=100, unique=True, help_text="Unique across Signet: pipelines ask the gate about it by name."
    )
    task = models.CharField(max_length=30, choices=ModelTask.choices)
    description = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="models")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RegisteredModelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # A project's models by name: the project page's panel and the models page filtered by project.
            models.Index(fields=["project", "name"], name="registeredmodel_project_name"),
            # The models page sorted newest first.
            models.Index(fields=["-created_at", "id"], name="registeredmodel_newest"),
        ]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="datasets")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=200, blank=True, help_text="System or team the data comes from.")
    sensitivity = models.CharField(max_length=20, choices=Sensitivity.choices, default=Sensitivity.INTERNAL)
    contains_personal_data = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="dataset_unique_name")]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    format = models.CharField(max_length=10, choices=FileFormat.choices)
    file = models.FileField(upload_to="datasets/", blank=True)
    uri = models.CharField(max_length=500, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    columns = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = DatasetVersionQuerySet.as_manager()

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="datasetversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"


class ModelVersion(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    artifact_uri = models.CharField(max_length=500, blank=True)
    artifact_sha256 = models.CharField(max_length=64, blank=True, validators=[sha256_validator])
    framework = models.CharField(max_length=60, blank=True)
    training_dataset = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="trained_versions"
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    source_run_id = models.CharField(max_length=200, blank=True, help_text="For example an MLflow run id.")
    metrics = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["model", "-number"]
        constraints = [models.UniqueConstraint(fields=["model", "number"], name="modelversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.model} v{self.number}"


class ModelCard(models.Model):
    version = models.OneToOneField(ModelVersion, on_delete=models.PROTECT, related_name="card")
    intended_use = models.TextField(blank=True)
    out_of_scope_use = models.TextField(blank=True)
    training_data = models.TextField(blank=True)
    evaluation = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    ethical_considerations = models.TextField(blank=True)
    monitoring_plan = models.TextField(blank=True)
    human_oversight = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Model card of {self.version}"


class ModelCardRevision(models.Model):
    card = models.ForeignKey(ModelCard, on_delete=models.PROTECT, related_name="revisions")
    revision = models.PositiveIntegerField()
    sections = models.JSONField()
    changed = models.JSONField(default=list)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["card", "-revision"]
        constraints = [models.UniqueConstraint(fields=["card", "revision"], name="cardrevision_unique")]

    def __str__(self) -> str:
        return f"{self.card} r{self.revision}"
