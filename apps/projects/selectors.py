"""Reads of projects, restricted to what the user may see."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import User
from apps.audit.selectors import timeline_for
from apps.projects.choices import DataAccessStatus
from apps.projects.filters import ProjectFilter
from apps.projects.models import Comment, DataNeed, Kpi, KpiMeasurement, Membership, Project

if TYPE_CHECKING:
    from apps.core.types import Viewer

SORTS = {"name": "name", "-updated": "-updated_at", "tier": "risk_tier", "status": "status"}

# The project page reads at most this many rows of each of its lists, whatever the project holds.
CHART_POINTS = 30  # measurements of a KPI in its trend line (the newest); a KPI measured daily has thousands
PAGE_COMMENTS = 20  # the newest comments of the discussion; the page says how many there are in all
PAGE_DATA_NEEDS = 50


def recent_measurements(points: int = CHART_POINTS) -> Prefetch:
    """Prefetch each KPI's ``points`` newest measurements, newest first, as ``recent_measurements``.

    One query for any number of KPIs (a window function per KPI), read by ``Kpi.latest_measurement``
    and ``Kpi.values_for_chart``.
    """
    newest = KpiMeasurement.objects.order_by("-measured_at", "-pk")[:points]
    return Prefetch("measurements", queryset=newest, to_attr="recent_measurements")


def projects_visible_to(user: Viewer) -> QuerySet[Project]:
    return Project.objects.visible_to(user)


def project_get(*, user: Viewer, slug: str) -> Project:
    """Return the project if the user may see it; otherwise 404, whether it exists or not."""
    return get_object_or_404(projects_visible_to(user), slug=slug)


def project_list(*, user: Viewer, filters: Mapping[str, Any] | None = None, sort: str = "name") -> QuerySet[Project]:
    """Return the projects ``user`` may see that pass ``filters`` (``ProjectFilter``), sorted."""
    projects = ProjectFilter.apply(filters, projects_visible_to(user))
    return projects.order_by(SORTS.get(sort, "name"), "pk")


def memberships_of(project: Project) -> QuerySet[Membership]:
    """The project's team (the project was looked up through what the reader may see)."""
    return Membership.objects.filter(project=project).select_related("user", "added_by")


def project_page_data(*, project: Project) -> dict[str, Any]:
    """Everything the project page shows of the project itself, in a fixed number of queries.

    Sections of other apps (its models, what is in service) come through ``apps.core.panels``.
    """
    kpis = list(Kpi.objects.filter(project=project).prefetch_related(recent_measurements()))
    memberships = list(
        Membership.objects.filter(project=project).select_related("user").order_by("role", "user__username")
    )
    newest = Comment.objects.filter(project=project).select_related("author").order_by("-created_at", "-pk")
    comments = list(newest[:PAGE_COMMENTS])[::-1]  # shown oldest first, as a conversation reads
    data_needs = list(DataNeed.objects.filter(project=project).order_by("pk")[: PAGE_DATA_NEEDS + 1])
    return {
        "kpis": kpis,
        "memberships": memberships,
        "data_needs": data_needs[:PAGE_DATA_NEEDS],
        "data_needs_more": len(data_needs) > PAGE_DATA_NEEDS,
        "comments": comments,
        "comment_count": project.comments.count(),
        "timeline": timeline_for(project_pk=project.pk),
        "qualification": project.qualifications.select_related("questionnaire").first(),
    }


def next_steps(*, project: Project, data: dict[str, Any]) -> list[str]:
    """Say in plain words what the project needs next (the registry adds what its models need)."""
    steps: list[str] = []
    if not project.risk_tier:
        steps.append("Answer the risk questionnaire so Signet knows which rules apply.")
    if not data["kpis"]:
        steps.append("Agree on KPIs: how will the business know the model helps?")
    # Asked of the table, not of the needs shown: the page shows the first PAGE_DATA_NEEDS only.
    if project.data_needs.filter(access_status__in=(DataAccessStatus.NEEDED, DataAccessStatus.REQUESTED)).exists():
        steps.append("Get access to the data still marked as needed or requested.")
    return steps


def project_people(project: Project, *roles: str) -> list[Any]:
    """The people who hold any of ``roles`` in the project, oldest account first (a stable order)."""

    return list(
        User.objects.filter(memberships__project=project, memberships__role__in=roles).distinct().order_by("pk")
    )
