"""Reads of the MLflow bridge, restricted to what the reader may see.

Connections are for administrators; the intake list (MLflow models no project governs yet) for any
signed-in person, as names and tags only; the alias panels for whoever sees the model's page. The
portfolio reads every mirrored model's aliases in a fixed number of queries (``portfolio_models``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from apps.integrations.alias_states import AliasState, alias_states, alias_states_bulk
from apps.integrations.models import MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.permissions import can_manage_connections, can_see_intake
from apps.projects.choices import ProjectRole
from apps.projects.models import Project
from apps.projects.permissions import roles_in

if TYPE_CHECKING:
    from apps.core.types import Viewer
    from apps.registry.models import ModelVersion, RegisteredModel

__all__ = ["AliasState", "alias_states", "unapproved"]

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
    path = reverse("api_mlflow_webhook", kwargs={"connection": connection.name})
    return f"{str(settings.SIGNET_BASE_URL).rstrip('/')}{path}"


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


def portfolio_models(*, viewer: Viewer, limit: int = 200, after: int | None = None) -> tuple[list[MlflowModel], int]:
    """The MLflow models Signet governs (by connection and name) with ``alias_list`` set on each, and their count.

    ``alias_list`` holds the ``AliasState`` of each alias (``apps/integrations/alias_states.py``, which
    judges as the gate does), read in a fixed number of queries however many models there are. At most
    ``limit`` rows, those after the governed model of id ``after`` when it is given (a keyset: the next
    page costs what the first does); ``after`` naming no governed model raises MlflowModel.DoesNotExist.
    The caller checks that ``viewer`` reads the portfolio.
    """
    governed = MlflowModel.objects.filter(model__isnull=False, deleted_at__isnull=True)
    last = governed.select_related("connection").get(pk=after) if after is not None else None
    count = governed.count()
    if not count:
        return [], 0
    page = governed.select_related("connection", "model__project").order_by("connection__name", "name", "pk")
    if last is not None:
        page = page.filter(
            Q(connection__name__gt=last.connection.name) | Q(connection__name=last.connection.name, name__gt=last.name)
        )
    rows = list(page[:limit])
    states = alias_states_bulk(rows)
    for row in rows:
        row.alias_list = states.get(row.pk, [])  # type: ignore[attr-defined]
    return rows, count


def unapproved(state: AliasState) -> bool:
    """A protected alias on a version no current approval backs: a shadow deployment."""
    return state.protected and not state.backed


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
