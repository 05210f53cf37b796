"""The project page runs the same number of queries with N rows in each of its lists as with 4N.

Each list the page shows grows without end in a real organisation (a KPI measured daily, a long
discussion, years of deployments), so the page reads a bounded number of rows of each and says
when there are more.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.monitoring.models import Breach, KpiActual, Monitor
from apps.projects import selectors
from apps.projects import services as projects
from apps.projects.models import Comment, DataNeed, Kpi, KpiMeasurement
from apps.registry.choices import VersionStatus
from apps.registry.models import ModelVersion
from apps.workflows.models import Deployment
from apps.workflows.selectors import IN_SERVICE_SHOWN
from tests.conftest import Org
from tests.monitoring.conftest import flow, watched

__all__ = ["flow", "watched"]

pytestmark = pytest.mark.django_db

N = 30  # above each of the page's bounds


def _grow(org: Org, kpis: list, rows: int, start: int) -> None:
    """``rows`` more measurements of each KPI, comments, data needs and deployments (two environments)."""
    now = timezone.now()
    KpiMeasurement.objects.bulk_create(
        KpiMeasurement(kpi=kpi, value=Decimal(i), recorded_by=org.owner, measured_at=now - timedelta(hours=start + i))
        for kpi in kpis
        for i in range(rows)
    )
    Comment.objects.bulk_create(
        Comment(project=org.project, author=org.owner, body=f"Comment {start + i}") for i in range(rows)
    )
    DataNeed.objects.bulk_create(DataNeed(project=org.project, description=f"Need {start + i}") for i in range(rows))
    Deployment.objects.bulk_create(
        Deployment(
            version=org.version,
            environment=("production", "staging")[i % 2],
            deployed_by=org.it_ops,
            deployed_at=now - timedelta(days=start + i),
        )
        for i in range(rows)
    )


def _page_queries(client: Client, url: str) -> tuple[int, bytes]:
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content


def test_the_project_page_costs_the_same_with_4n_rows_as_with_n(org: Org) -> None:
    kpis = [
        projects.kpi_create(actor=org.owner, project=org.project, name=f"KPI {i}", target=Decimal("1"))
        for i in range(2)
    ]
    ModelVersion.objects.filter(pk=org.version.pk).update(status=VersionStatus.DEPLOYED)
    client = Client()
    client.force_login(org.validator)  # a member, not an administrator: the restricted reads run
    url = f"/projects/{org.project.slug}/"
    _grow(org, kpis, N, 0)
    first, _ = _page_queries(client, url)
    _grow(org, kpis, 3 * N, N)
    again, content = _page_queries(client, url)
    assert again == first
    page = content.decode()
    assert page.count('class="comment"') == selectors.PAGE_COMMENTS
    assert f"of {4 * N} comments" in page
    newest = 4 * N - 1  # bulk_create stamps them in order: the last made is the newest
    assert f"Comment {newest}<" in page
    assert f"Comment {newest - selectors.PAGE_COMMENTS}<" not in page
    assert page.count("<tr><td>Need ") == selectors.PAGE_DATA_NEEDS
    assert 'id="data-needs-more"' in page
    # What is in service: one row per environment, however many deployments there were.
    in_service = page.split('id="in-service"', 1)[1].split("</ul>", 1)[0]
    assert in_service.count("<li>") == 2 <= IN_SERVICE_SHOWN


def test_a_kpi_trend_shows_its_newest_measurements_in_time_order(org: Org) -> None:
    kpi = projects.kpi_create(actor=org.owner, project=org.project, name="Uptake", target=Decimal("1"))
    now = timezone.now()
    KpiMeasurement.objects.bulk_create(
        KpiMeasurement(kpi=kpi, value=Decimal(i), recorded_by=org.owner, measured_at=now - timedelta(hours=100 - i))
        for i in range(100)
    )
    [shown] = selectors.project_page_data(project=org.project)["kpis"]
    assert shown.values_for_chart == [float(i) for i in range(100 - selectors.CHART_POINTS, 100)]
    assert shown.latest_measurement.value == Decimal(99)


def _grow_kpis_and_monitors(watched, count: int, start: int) -> None:
    """``count`` more KPIs with five values each (linked to the deployment) and monitors, half of them breaching."""
    flow, monitor = watched.flow, watched.monitor
    now = timezone.now()
    kpis = Kpi.objects.bulk_create(
        Kpi(project=flow.project, name=f"KPI {start + i}", target=Decimal("1")) for i in range(count)
    )
    values = KpiMeasurement.objects.bulk_create(
        KpiMeasurement(kpi=kpi, value=Decimal(i), recorded_by=flow.owner, measured_at=now - timedelta(days=7 * i))
        for kpi in kpis
        for i in range(5)
    )
    KpiActual.objects.bulk_create(KpiActual(measurement=m, deployment=watched.deployment) for m in values)
    copies = []
    for i in range(count):
        copy = Monitor.objects.get(pk=monitor.pk)
        copy.pk, copy.name = None, f"copy {start + i}"
        copies.append(copy)
    Monitor.objects.bulk_create(copies)
    Breach.objects.bulk_create(
        Breach(monitor=m, key="drift:psi:f0::", check_name="drift", metric="psi", column="f0", size="day",
               window_start=now)
        for m in copies[::2]
    )  # fmt: skip


def test_the_project_page_costs_the_same_with_4n_kpis_values_and_monitors_as_with_n(watched) -> None:
    client = Client()
    client.force_login(watched.flow.validator)
    url = f"/projects/{watched.flow.project.slug}/"
    _grow_kpis_and_monitors(watched, 3, 0)
    first, _ = _page_queries(client, url)
    _grow_kpis_and_monitors(watched, 9, 3)
    again, content = _page_queries(client, url)
    assert again == first
    page = content.decode()
    assert page.count('class="chart kpi-chart"') == 12
    tile = page.split('id="monitoring-tile"', 1)[1].split("</section>", 1)[0]
    assert tile.count("<li ") == 13
    assert tile.count("1 metric breaching") == 2 + 5
    assert tile.index("1 metric breaching") < tile.index("waiting for its first batch")  # breaching first


def test_a_breaching_monitor_shows_on_the_tile_however_many_monitors_come_before_it_by_name(watched) -> None:
    monitor = watched.monitor
    copies = []
    for i in range(25):
        copy = Monitor.objects.get(pk=monitor.pk)
        copy.pk, copy.name = None, f"a-{i:02d}"  # before "production" by name
        copies.append(copy)
    Monitor.objects.bulk_create(copies)
    Breach.objects.create(
        monitor=monitor, key="drift:psi:f0::", check_name="drift", metric="psi", column="f0", size="day",
        window_start=timezone.now(),
    )  # fmt: skip
    client = Client()
    client.force_login(watched.flow.owner)
    page = client.get(f"/projects/{watched.flow.project.slug}/").content.decode()
    tile = page.split('id="monitoring-tile"', 1)[1].split("</section>", 1)[0]
    assert tile.count("<li ") == 20
    assert tile.index(f'data-monitor="{monitor.pk}"') < tile.index('data-state="waiting"')
    assert "1 metric breaching" in tile
    assert "each version's page lists all of its own" in tile
