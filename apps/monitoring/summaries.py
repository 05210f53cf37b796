"""Summaries of monitoring for other pages' tiles: read-only, each restricted to what the reader may see.

The project page shows its monitors with their state and which version was in production when a
KPI was measured; the portfolio counts the monitored versions, those breaching now and those not fed
for longer than expected, and lists them. Each read is a fixed number of queries, whatever the
number of projects, monitors, breaches or KPI values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Q, QuerySet

from apps.monitoring.choices import MonitorStatus
from apps.monitoring.models import Breach, KpiActual, Monitor
from apps.monitoring.selectors import IN_SERVICE, monitors_visible_to
from apps.projects.models import Project

if TYPE_CHECKING:
    from apps.core.types import Viewer

TILE_SHOWN = 20  # monitors on the project page's tile; the version pages list the rest
LIST_SHOWN = 200  # monitors on the portfolio's list of one state

WITHIN, BREACHING, LATE, PAUSED, WAITING = "within", "breaching", "late", "paused", "waiting"
# The portfolio's lists: every monitored version, those breaching now, those not fed in time.
STATES = {
    "monitored": "Monitored versions",
    "breaching": "Breaching now",
    "late": "Not fed for longer than expected",
}
# A breach that exists and has not recovered (the join to breaches is outer: a monitor without any has nulls).
OPEN_BREACH = Q(breaches__isnull=False, breaches__recovered_at__isnull=True)
# "Not fed for longer than expected" is the periodic check's verdict (monitors_check_feeds, every five
# minutes): the owners were told then, and the next batch clears it.
FED_LATE = Q(status=MonitorStatus.ACTIVE, feed_late_since__isnull=False) & IN_SERVICE


@dataclass(frozen=True)
class MonitorState:
    """A monitor as a tile shows it: what it watches and, in a few words, how it stands."""

    monitor: Monitor
    breaching: int
    state: str
    words: str

    @property
    def version(self) -> Any:
        return self.monitor.version

    @property
    def environment(self) -> str:
        return str(self.monitor.deployment.environment)


def state_of(monitor: Monitor, breaching: int) -> tuple[str, str]:
    """The monitor's state and its words: breaching first, then not fed, paused, no batch yet, within."""
    if breaching:
        words = f"{breaching} metric{'s' if breaching != 1 else ''} breaching"
        if monitor.feed_late_since is not None and monitor.status == MonitorStatus.ACTIVE:
            words += "; not fed for longer than expected"
        return BREACHING, words
    if monitor.status == MonitorStatus.ACTIVE and monitor.feed_late_since is not None:
        since = f" (last batch {monitor.last_batch_at:%d %b %H:%M} UTC)" if monitor.last_batch_at else ""
        return LATE, f"not fed for longer than expected{since}"
    if monitor.status != MonitorStatus.ACTIVE:
        return PAUSED, "paused"
    if monitor.last_batch_at is None:
        return WAITING, "waiting for its first batch"
    return WITHIN, "within thresholds"


def _states(monitors: Iterable[Monitor]) -> list[MonitorState]:
    states = []
    for monitor in monitors:
        breaching = int(getattr(monitor, "breaching", 0))
        state, words = state_of(monitor, breaching)
        states.append(MonitorState(monitor, breaching, state, words))
    return states


def _annotated(monitors: QuerySet[Monitor]) -> QuerySet[Monitor]:
    return monitors.select_related("version__model__project", "deployment").annotate(
        breaching=Count("breaches", filter=OPEN_BREACH)
    )


def project_monitors(*, user: Viewer, project: Project) -> dict[str, Any]:
    """The project page's monitoring tile: its monitors (version, environment, state), breaching first; one query."""
    # Breaching and late ones first in the query too, so a long list never hides them past the tile's end.
    monitors = _annotated(monitors_visible_to(user).filter(IN_SERVICE, version__model__project=project)).order_by(
        F("breaching").desc(),
        F("feed_late_since").desc(nulls_last=True),
        "version__model__name",
        "-version__number",
        "deployment__environment",
        "name",
    )
    shown = _states(monitors[: TILE_SHOWN + 1])
    order = {BREACHING: 0, LATE: 1, WAITING: 2, PAUSED: 3, WITHIN: 4}
    tile = sorted(shown[:TILE_SHOWN], key=lambda s: order[s.state])
    return {"monitor_tile": tile, "monitor_tile_more": len(shown) > TILE_SHOWN}


def kpi_versions(*, user: Viewer, project: Project, measurements: list[int]) -> dict[str, Any]:
    """Which version was in production when each of ``measurements`` (ids) was measured; one query.

    Read from the link monitoring made when the value was recorded (``KpiActual``), restricted to the
    project the reader is looking at.
    """
    if not measurements:
        return {"kpi_versions": {}}
    actuals = (
        KpiActual.objects.filter(
            measurement_id__in=measurements,
            measurement__kpi__project=project,
            measurement__kpi__project__in=Project.objects.visible_to(user),
        )
        .exclude(deployment=None)
        .select_related("deployment__version__model")
        .only("measurement_id", "deployment__version__number", "deployment__version__model__name")
    )
    versions = {}
    for actual in actuals:
        assert actual.deployment is not None  # excluded above
        version = actual.deployment.version
        versions[actual.measurement_id] = {"pk": version.pk, "label": f"{version.model.name} v{version.number}"}
    return {"kpi_versions": versions}


def portfolio_monitoring(*, user: Viewer) -> dict[str, int]:
    """Over everything ``user`` may see: versions monitored, breaching now, not fed in time; one query."""
    counts = (
        monitors_visible_to(user)
        .filter(IN_SERVICE)
        .aggregate(
            monitored=Count("version", distinct=True, filter=Q(status=MonitorStatus.ACTIVE)),
            monitors=Count("pk", distinct=True, filter=Q(status=MonitorStatus.ACTIVE)),
            breaching=Count("version", distinct=True, filter=OPEN_BREACH),
            late=Count("version", distinct=True, filter=FED_LATE),
        )
    )
    return {key: int(value or 0) for key, value in counts.items()}


def monitors_in_state(*, user: Viewer, state: str) -> list[MonitorState]:
    """The monitors behind one of the portfolio's numbers (``STATES``), breaching first; KeyError for another."""
    if state not in STATES:
        raise KeyError(state)
    monitors = monitors_visible_to(user).filter(IN_SERVICE)
    if state == "monitored":
        monitors = monitors.filter(status=MonitorStatus.ACTIVE)
    elif state == "breaching":
        monitors = monitors.filter(pk__in=Breach.objects.filter(recovered_at__isnull=True).values("monitor_id"))
    else:
        monitors = monitors.filter(FED_LATE)
    ordered = _annotated(monitors).order_by(
        "version__model__project__name", "version__model__name", "-version__number", "name", "pk"
    )
    return _states(ordered[:LIST_SHOWN])
