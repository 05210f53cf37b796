"""The MLflow bridge: tracking servers Signet governs, and its mirror of what each one holds.

A ``MlflowConnection`` is a tracking server an administrator added. Signet keeps a mirror of the
server's registry (``MlflowModel``, ``MlflowVersion``, ``MlflowAlias``): what MLflow said, as last
read, linked to the Signet model and version that govern it. A mirror row without a Signet model is
in the intake list until a project owner claims it. Rows that disappear from MLflow are marked
(``deleted_at``), never deleted: the audit trail refers to them. Secrets are never stored: the
connection names the environment variable or the file (in ``SIGNET_SECRETS_DIR``) that holds them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from apps.integrations.choices import ArtifactState, AuthKind, DeliveryState, ReconcileStatus
from apps.registry.models import ModelVersion, RegisteredModel

# A secret comes from an environment variable of this prefix, so a connection can never be made to send
# another setting (the database password, SECRET_KEY) to a server of its choosing.
SECRET_ENV_PREFIX = "SIGNET_MLFLOW_"  # noqa: S105 - a name prefix, not a secret
secret_env_validator = RegexValidator(
    r"^SIGNET_MLFLOW_[A-Z0-9_]{1,80}$",
    "Name an environment variable that starts with SIGNET_MLFLOW_ (capital letters, digits and _).",
)
# Likewise a file: the secrets folder (/run/secrets) also holds the portal's own mounted secrets.
SECRET_FILE_PREFIX = "signet-mlflow-"  # noqa: S105 - a name prefix, not a secret
secret_file_validator = RegexValidator(
    r"^signet-mlflow-[A-Za-z0-9._-]{1,106}$",
    "Name a signet-mlflow-* file of the secrets folder (no folders).",
)


def default_protected_aliases() -> dict[str, str]:
    """Alias -> the environment whose gate an alias's version must pass."""
    return {"champion": "production", "production": "production"}


class MlflowConnection(models.Model):
    name = models.SlugField(max_length=60, unique=True)
    url = models.URLField(max_length=300, help_text="The tracking server, for example https://mlflow.example.org")
    auth_kind = models.CharField(max_length=10, choices=AuthKind.choices, default=AuthKind.NONE)
    username = models.CharField(max_length=150, blank=True, help_text="For basic authentication")
    secret_env = models.CharField(
        max_length=100,
        blank=True,
        validators=[secret_env_validator],
        help_text="Environment variable holding the token or password",
    )
    secret_file = models.CharField(
        max_length=121,
        blank=True,
        validators=[secret_file_validator],
        help_text="Or a file in the secrets folder holding it",
    )
    webhook_secret_env = models.CharField(
        max_length=100,
        blank=True,
        validators=[secret_env_validator],
        help_text="Environment variable holding the secret MLflow signs its webhooks with",
    )
    webhook_secret_file = models.CharField(
        max_length=121, blank=True, validators=[secret_file_validator], help_text="Or a file in the secrets folder"
    )
    project_tag = models.CharField(
        max_length=250, default="signet.project", help_text="The MLflow model tag naming the Signet project (its slug)"
    )
    protected_aliases = models.JSONField(
        default=default_protected_aliases,
        help_text='Aliases pipelines deploy from, each with the environment it deploys to: {"champion": "production"}',
    )
    restore_aliases = models.BooleanField(
        default=False,
        help_text="Move a protected alias back to the last approved version (or remove it) when it points at "
        "one the gate refuses",
    )
    write_back = models.BooleanField(default=True, help_text="Set signet.* tags on the MLflow versions")
    enabled = models.BooleanField(default=True)
    # The bridge acts as this account: versions it registers and every change it makes carry its name.
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mlflow_connection"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    reconcile_status = models.CharField(max_length=10, choices=ReconcileStatus.choices, default=ReconcileStatus.NEVER)
    reconcile_started_at = models.DateTimeField(null=True, blank=True)
    reconciled_at = models.DateTimeField(null=True, blank=True, help_text="End of the last complete pass")
    reconcile_message = models.TextField(blank=True)
    tested_at = models.DateTimeField(null=True, blank=True)
    test_result = models.JSONField(default=list, blank=True, help_text="[{check, ok, message}] of the last test")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def actor_name(self) -> str:
        """The name the audit trail shows for what the bridge did."""
        return f"mlflow:{self.name}"

    def environment_of(self, alias: str) -> str | None:
        """The environment a protected alias deploys to; None when the alias is not protected."""
        value: Any = (self.protected_aliases or {}).get(alias)
        return str(value) if value else None


class MlflowModel(models.Model):
    """A registered model of an MLflow server, as last read; ``model`` is empty while in the intake list."""

    connection = models.ForeignKey(MlflowConnection, on_delete=models.PROTECT, related_name="models")
    name = models.CharField(max_length=256)
    model = models.OneToOneField(
        RegisteredModel, null=True, blank=True, on_delete=models.PROTECT, related_name="mlflow"
    )
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict, blank=True)
    last_updated_timestamp = models.BigIntegerField(default=0, help_text="MLflow's, in milliseconds")
    seen_at = models.DateTimeField(default=timezone.now, help_text="Last time a reconcile or webhook saw it")
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="When Signet found it gone from MLflow")
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["connection", "name"]
        constraints = [models.UniqueConstraint(fields=["connection", "name"], name="mlflowmodel_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.connection})"


class MlflowVersion(models.Model):
    """A model version of an MLflow server, as last read, and the Signet version that governs it."""

    mlflow_model = models.ForeignKey(MlflowModel, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    version = models.OneToOneField(ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="mlflow")
    source = models.CharField(max_length=1000, blank=True)
    run_id = models.CharField(max_length=64, blank=True)
    user_id = models.CharField(max_length=256, blank=True, help_text="Who registered it in MLflow")
    status = models.CharField(max_length=40, blank=True, help_text="MLflow's (READY, PENDING_REGISTRATION, ...)")
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict, blank=True)
    run = models.JSONField(
        default=dict, blank=True, help_text="From the run: params, metrics, datasets, git_commit, artifact_uri"
    )
    last_updated_timestamp = models.BigIntegerField(default=0, help_text="MLflow's, in milliseconds")
    artifact_uri = models.CharField(max_length=1000, blank=True, help_text="Where its files are (download URI)")
    artifact_state = models.CharField(max_length=12, choices=ArtifactState.choices, default=ArtifactState.PENDING)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    artifact_size = models.PositiveBigIntegerField(null=True, blank=True)
    artifact_message = models.CharField(max_length=500, blank=True)
    artifact_hashed_at = models.DateTimeField(null=True, blank=True)
    written_tags = models.JSONField(default=dict, blank=True, help_text="The signet.* tags Signet last set")
    seen_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["mlflow_model", "-number"]
        constraints = [models.UniqueConstraint(fields=["mlflow_model", "number"], name="mlflowversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.mlflow_model.name} v{self.number}"


class MlflowAlias(models.Model):
    """Where an alias of an MLflow model points, as last read."""

    mlflow_model = models.ForeignKey(MlflowModel, on_delete=models.PROTECT, related_name="aliases")
    alias = models.CharField(max_length=256)
    number = models.PositiveIntegerField(help_text="The MLflow version number it points at")
    changed_at = models.DateTimeField(default=timezone.now)
    # The guard audits an unapproved alias once per version it points at, not on every check.
    refused_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="The version it pointed at when last found unapproved"
    )

    class Meta:
        ordering = ["mlflow_model", "alias"]
        constraints = [models.UniqueConstraint(fields=["mlflow_model", "alias"], name="mlflowalias_unique_alias")]

    def __str__(self) -> str:
        return f"{self.mlflow_model.name}@{self.alias} -> v{self.number}"


class InboundDelivery(models.Model):
    """A webhook delivery MLflow sent; its id makes a retried delivery a no-op."""

    connection = models.ForeignKey(MlflowConnection, on_delete=models.PROTECT, related_name="deliveries")
    delivery_id = models.CharField(max_length=100)
    event = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    sent_at = models.DateTimeField(help_text="MLflow's timestamp header")
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.QUEUED)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["connection", "delivery_id"], name="inbounddelivery_unique_id")]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"
