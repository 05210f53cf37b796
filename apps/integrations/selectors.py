"""Reads of the MLflow bridge, restricted to what the reader may see.

Connections are for administrators; the intake list (MLflow models no project governs yet) for any
signed-in person, as names and tags only; the alias panels for whoever sees the model's page. The
portfolio reads every mirrored model's aliases in a fixed number of queries (``portfolio_models``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.integrations.models import MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.permissions import can_manage_connections, can_see_intake
from apps.projects.choices import ProjectRole
from apps.projects.models import Project
from apps.projects.permissions import roles_in
from apps.registry.choices import VersionStatus
from apps.workflows.choices import BLOCKING_SEVERITIES, FindingStatus, ReviewStatus
from apps.workflows.evidence import evidence_digests
from apps.workflows.gate import gate_check
from apps.workflows.models import Finding, Review

if TYPE_CHECKING:
    from apps.core.types import Viewer
    from apps.registry.models import ModelVersion, RegisteredModel

# The registry events MLflow sends (mlflow/entities/webhook.py); a webhook subscribes to each of them.
WEBHOOK_EVENTS = (
    "registered_model.created",
    "model_version.created",
    "model_version_tag.set",
    "model_version_tag.deleted",
    "model_version_alias.created",
    "model_version_alias.deleted",
)


def _live_versions() -> Q:
    return Q(versions__deleted_at__isnull=True)


def connections_visible_to(user: Viewer) -> QuerySet[MlflowConnection]:
    """Every connection for administrators, with its intake count; nothing for anyone else."""
    if not can_manage_connections(user):
        return MlflowConnection.objects.none()
    intake = Q(models__model__isnull=True, models__deleted_at__isnull=True)
    return MlflowConnection.objects.select_related("created_by", "service_user").annotate(
        intake_count=Count("models", filter=intake, distinct=True),
        governed_count=Count("models", filter=Q(models__model__isnull=False), distinct=True),
    )


def webhook_url(connection: MlflowConnection) -> str:
    """The absolute address MLflow posts this connection's webhooks to (from SIGNET_BASE_URL)."""
    return f"{str(settings.SIGNET_BASE_URL).rstrip('/')}/api/v1/mlflow/{connection.name}/webhook/"


def intake_visible_to(user: Viewer) -> QuerySet[MlflowModel]:
    """MLflow models no Signet model governs yet, not deleted in MLflow, with their version count."""
    if not can_see_intake(user):
        return MlflowModel.objects.none()
    return (
        MlflowModel.objects.filter(model__isnull=True, deleted_at__isnull=True, connection__enabled=True)
        .select_related("connection")
        .annotate(version_count=Count("versions", filter=_live_versions()))
        .order_by("connection__name", "name", "pk")
    )


def claimable_projects(user: Viewer) -> QuerySet[Project]:
    """The projects ``user`` owns: where they may bring an MLflow model."""
    if not (user.is_authenticated and user.is_active):
        return Project.objects.none()
    return (
        Project.objects.filter(memberships__user=user, memberships__role=ProjectRole.OWNER).distinct().order_by("name")
    )


# --- aliases -------------------------------------------------------------------------------------


@dataclass
class AliasState:
    """Where one MLflow alias points, and whether a current approval backs that version."""

    alias: str
    number: int
    environment: str | None  # the environment of a protected alias; None when not protected
    version: ModelVersion | None  # the Signet version governing MLflow's version, when there is one
    backed: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def protected(self) -> bool:
        return self.environment is not None

    @property
    def unapproved(self) -> bool:
        """A protected alias pointing at a version no current approval backs: a shadow deployment."""
        return self.protected and not self.backed


def _mirror_versions(mlflow_models: list[MlflowModel]) -> dict[tuple[int, int], MlflowVersion]:
    wanted = Q()
    for mlflow_model in mlflow_models:
        numbers = [a.number for a in mlflow_model.aliases.all()]
        if numbers:
            wanted |= Q(mlflow_model=mlflow_model, number__in=numbers)
    if not wanted:
        return {}
    rows = MlflowVersion.objects.filter(wanted).select_related("version__model")
    return {(row.mlflow_model_id, row.number): row for row in rows}


def alias_states(mlflow_model: MlflowModel) -> list[AliasState]:
    """Each alias of ``mlflow_model`` with the gate's answer for its environment (for the model page).

    The gate's own reasons, in words; an alias on a version Signet does not govern is never backed.
    """
    mirrors = _mirror_versions([mlflow_model])
    connection = mlflow_model.connection
    states = []
    for alias in mlflow_model.aliases.all():
        environment = connection.environment_of(alias.alias)
        mirror = mirrors.get((mlflow_model.pk, alias.number))
        version = mirror.version if mirror is not None else None
        if version is None:
            reason = f"MLflow version {alias.number} is not governed in Signet yet."
            states.append(AliasState(alias.alias, alias.number, environment, None, False, [reason]))
            continue
        answer = gate_check(version=version, environment=environment or "any environment")
        states.append(AliasState(alias.alias, alias.number, environment, version, answer.allowed, answer.reasons))
    return states


def _approval_refusals(versions: list[ModelVersion]) -> dict[int, list[str]]:
    """Why each version's approval is not current, in the gate's terms; in four queries for any number."""
    if not versions:
        return {}
    ids = [v.pk for v in versions]
    latest: dict[int, Review] = {}
    for review in Review.objects.filter(version_id__in=ids, status=ReviewStatus.APPROVED).order_by("-cycle"):
        latest.setdefault(review.version_id, review)
    digests = evidence_digests([v for v in versions if v.pk in latest])
    blocked = set(
        Finding.objects.filter(
            Q(version_id__in=ids) | Q(version=None, model_id__in={v.model_id for v in versions}),
            status__in=(FindingStatus.OPEN, FindingStatus.REMEDIATED),
            severity__in=BLOCKING_SEVERITIES,
        ).values_list("version_id", "model_id")
    )
    blocked_versions = {version_id for version_id, _model in blocked if version_id}
    blocked_models = {model_id for version_id, model_id in blocked if version_id is None}
    now = timezone.now()
    refusals: dict[int, list[str]] = {}
    for version in versions:
        label = f"{version.model.name} v{version.number}"
        reasons = []
        found = latest.get(version.pk)
        if version.status not in (VersionStatus.APPROVED, VersionStatus.DEPLOYED) or found is None:
            reasons.append(f"{label} is {version.get_status_display().lower()}, not approved.")
        else:
            review = found
            if review.approved_digest != digests[version.pk]:
                reasons.append(f"The approval of {label} is stale: its evidence changed after approval.")
            if review.expires_at and review.expires_at + timedelta(days=review.grace_days) <= now:
                reasons.append(f"The approval of {label} expired on {review.expires_at:%Y-%m-%d}.")
            if version.pk in blocked_versions or version.model_id in blocked_models:
                reasons.append(f"{label} has open high or critical findings.")
        refusals[version.pk] = reasons
    return refusals


def portfolio_models(*, viewer: Viewer, limit: int = 200) -> tuple[list[MlflowModel], int]:
    """The MLflow models Signet governs (newest first) with ``alias_list`` set on each, and their count.

    ``alias_list`` holds an ``AliasState`` per alias; the flags follow the gate's rules (approved,
    evidence unchanged, not expired past its grace, no blocking finding) and are read in a fixed
    number of queries, however many models and aliases there are. The caller checks that ``viewer``
    reads the portfolio.
    """
    governed = MlflowModel.objects.filter(model__isnull=False, deleted_at__isnull=True)
    count = governed.count()
    if not count:
        return [], 0
    rows = list(
        governed.select_related("connection", "model__project")
        .prefetch_related(Prefetch("aliases", queryset=MlflowAlias.objects.order_by("alias")))
        .order_by("connection__name", "name")[:limit]
    )
    mirrors = _mirror_versions(rows)
    versions = {m.version.pk: m.version for m in mirrors.values() if m.version is not None}
    refusals = _approval_refusals(list(versions.values()))
    for row in rows:
        states = []
        for alias in row.aliases.all():
            environment = row.connection.environment_of(alias.alias)
            mirror = mirrors.get((row.pk, alias.number))
            version = mirror.version if mirror is not None else None
            if version is None:
                reasons = [f"MLflow version {alias.number} is not governed in Signet yet."]
            else:
                reasons = refusals[version.pk]
            states.append(AliasState(alias.alias, alias.number, environment, version, not reasons, reasons))
        row.alias_list = states  # type: ignore[attr-defined]
    return rows, count


# --- the sections of the registry's pages -----------------------------------------------------------


def model_panel(*, user: Viewer, model: RegisteredModel) -> dict[str, Any]:
    """The model page's MLflow section: the connection and name, and each alias with its approval."""
    mlflow_model = MlflowModel.objects.select_related("connection").filter(model=model).first()
    if mlflow_model is None:
        return {"mlflow_model": None, "mlflow_aliases": []}
    return {"mlflow_model": mlflow_model, "mlflow_aliases": alias_states(mlflow_model)}


def version_panel(*, user: Viewer, version: ModelVersion) -> dict[str, Any]:
    """The version page's MLflow section: what MLflow holds of this version, as last read."""
    mirror = MlflowVersion.objects.select_related("mlflow_model__connection").filter(version=version).first()
    if mirror is None:
        return {"mlflow_version": None}
    run: dict[str, Any] = mirror.run if isinstance(mirror.run, dict) else {}
    aliases = [a.alias for a in mirror.mlflow_model.aliases.all() if a.number == mirror.number]
    return {
        "mlflow_version": mirror,
        "mlflow_run": {
            "params": sorted(_as_dict(run.get("params")).items()),
            "metrics": sorted(_as_dict(run.get("metrics")).items()),
            "datasets": [d for d in run.get("datasets") or [] if isinstance(d, dict)],
            "git_commit": str(run.get("git_commit") or ""),
        },
        "mlflow_version_aliases": aliases,
        "mlflow_written_tags": sorted(_as_dict(mirror.written_tags).items()),
    }


def project_intake_panel(*, user: Viewer, project: Project) -> dict[str, Any]:
    """For an owner of the project: how many MLflow models wait in the intake list (a link to claim them)."""
    if ProjectRole.OWNER not in roles_in(user, project):
        return {"mlflow_intake_count": 0}
    return {"mlflow_intake_count": intake_visible_to(user).count()}


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
