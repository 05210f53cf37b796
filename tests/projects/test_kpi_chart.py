"""The project page draws each KPI's target against its actual values over a real time axis (server-side SVG)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from apps.core import charts
from apps.projects import presenters
from apps.projects import services as projects
from apps.projects.models import Kpi, KpiMeasurement
from apps.workflows.models import Deployment
from tests.monitoring.conftest import deployed
from tests.workflows.conftest import Flow, flow

__all__ = ["flow"]


def test_the_time_axis_ticks_fall_on_dates_and_the_values_on_round_numbers() -> None:
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a Monday
    values = [0.78, 0.77, 0.76, 0.71]
    points = [charts.Point(start + timedelta(days=7 * i), v, missed=v < 0.75) for i, v in enumerate(values)]
    chart = charts.time_chart(points, target=0.75)
    labels = [t.label for t in chart.x_ticks]
    assert labels == ["9 Nov", "16 Nov", "23 Nov"]  # whole weeks, Mondays at midnight UTC, within the span
    xs = [t.position for t in chart.x_ticks]
    assert xs == sorted(xs)
    assert all(chart.left <= x <= chart.right for x in xs)
    ticks = [float(t.label) for t in chart.y_ticks]
    assert ticks[0] <= 0.71
    assert ticks[-1] >= 0.78
    assert all(round(b - a, 6) == round(ticks[1] - ticks[0], 6) for a, b in itertools.pairwise(ticks))
    # Higher values are drawn higher: SVG's y grows downwards.
    assert [p.y for p in chart.points] == sorted(p.y for p in chart.points)
    assert chart.target_y is not None
    assert chart.points[2].y < chart.target_y < chart.points[3].y
    assert [p.missed for p in chart.points] == [False, False, False, True]
    # Time, not the order of the points, places them: a gap of three weeks is three times one week.
    gaps = [b.x - a.x for a, b in zip(chart.points, chart.points[1:], strict=False)]
    assert max(gaps) - min(gaps) < 0.2


def test_a_single_value_and_a_flat_series_still_draw() -> None:
    moment = datetime(2026, 12, 3, 15, tzinfo=UTC)
    chart = charts.time_chart([charts.Point(moment, 5.0)], target=5.0)
    assert chart.points[0].x == pytest.approx((chart.left + chart.right) / 2, abs=0.2)
    assert [t.label for t in chart.x_ticks] == ["4 Dec"]  # the one midnight in the day shown around it
    assert len(chart.y_ticks) >= 2
    with pytest.raises(ValueError, match="at least one point"):
        charts.time_chart([])


@pytest.mark.parametrize(
    ("target", "value"),
    [
        (223120482987.664250, 223120482987.664280),  # closer than floats near 1e11 tell apart on a chart
        (1e15, 1e15 + 0.125),
        (-4.5e11, -4.5e11 - 0.000001),
        (0.0, 1e-300),
    ],
)
def test_values_too_close_to_tell_apart_still_draw(target: float, value: float) -> None:
    moment = datetime(2026, 12, 3, tzinfo=UTC)
    points = [charts.Point(moment, value), charts.Point(moment + timedelta(days=2), target)]
    chart = charts.time_chart(points, target=target)
    assert len(chart.y_ticks) >= 2
    assert all(chart.top <= p.y <= chart.bottom for p in chart.points)


def test_the_project_page_shows_near_equal_large_values(flow: Flow) -> None:
    kpi = projects.kpi_create(
        actor=flow.owner, project=flow.project, name="Exposure", target=Decimal("223120482987.664250"), unit="EUR"
    )
    projects.kpi_record_value(actor=flow.owner, kpi=kpi, value=Decimal("223120482987.664280"))
    client = Client()
    client.force_login(flow.owner)
    assert client.get(f"/projects/{flow.project.slug}/").status_code == 200


def test_months_of_values_tick_at_the_first_of_each_month() -> None:
    start = datetime(2026, 1, 10, tzinfo=UTC)
    points = [charts.Point(start + timedelta(days=i * 10), float(i)) for i in range(20)]
    labels = [t.label for t in charts.time_chart(points).x_ticks]
    assert labels[0] == "1 Feb"
    assert all(label.startswith("1 ") for label in labels)


def _kpi(flow: Flow, unit: str = "") -> Kpi:
    return projects.kpi_create(
        actor=flow.owner, project=flow.project, name="Approval rate", target=Decimal("0.75"), unit=unit
    )


def test_the_sentence_says_the_last_value_its_date_and_the_target() -> None:
    kpi = Kpi(name="Approval rate", target=Decimal("0.75"), direction="higher")
    last = KpiMeasurement(kpi=kpi, value=Decimal("0.71"), measured_at=datetime(2026, 12, 3, 10, tzinfo=UTC))
    assert presenters.sentence(kpi, last) == "The last value, 0.71 on 3 Dec, is below the target 0.75."
    lower = Kpi(name="Default rate", target=Decimal("2.5"), unit="%", direction="lower")
    late = KpiMeasurement(kpi=lower, value=Decimal("2.7"), measured_at=datetime(2026, 12, 1, tzinfo=UTC))
    assert presenters.sentence(lower, late, "pd v2") == (
        "The last value, 2.7 % on 1 Dec, while pd v2 was in production, is above the target 2.5 % (lower is better)."
    )
    met = KpiMeasurement(kpi=kpi, value=Decimal("0.75"), measured_at=datetime(2026, 12, 3, tzinfo=UTC))
    assert presenters.sentence(kpi, met) == "The last value, 0.75 on 3 Dec, meets the target 0.75."
    assert "not been measured yet" in presenters.sentence(kpi, None)


@pytest.mark.django_db
def test_the_project_page_draws_target_against_actual_with_dates_and_the_version_in_production(flow: Flow) -> None:
    kpi = _kpi(flow)
    now = timezone.now()
    for weeks, value in ((3, "0.78"), (2, "0.77")):
        projects.kpi_record_value(
            actor=flow.owner, kpi=kpi, value=Decimal(value), measured_at=now - timedelta(weeks=weeks)
        )
    deployment = deployed(flow)
    Deployment.objects.filter(pk=deployment.pk).update(deployed_at=now - timedelta(days=10))
    projects.kpi_record_value(actor=flow.owner, kpi=kpi, value=Decimal("0.76"), measured_at=now - timedelta(weeks=1))
    last = projects.kpi_record_value(actor=flow.owner, kpi=kpi, value=Decimal("0.71"), measured_at=now)
    client = Client()
    client.force_login(flow.auditor)  # reads every project, holds no role in this one
    page = client.get(f"/projects/{flow.project.slug}/").content.decode()
    day = f"{last.measured_at.day} {last.measured_at:%b}"
    assert f"The last value, 0.71 on {day}, while pd-model v1 was in production, is below the target 0.75." in page
    svg = page.split('class="chart kpi-chart"', 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in page.split('class="chart kpi-chart"', 1)[0][-300:]
    assert "Approval rate against its target 0.75, 4 values from" in svg  # the accessible title
    ticks = re.findall(r'class="chart-value x-tick">([^<]+)<', svg)
    assert len(ticks) >= 2
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", t) for t in ticks)
    assert 'class="limit target-line"' in svg
    assert "target 0.75" in svg
    assert svg.count('class="point-missed"') == 1
    assert svg.count('class="point-met"') == 3
    assert "missed the target; pd-model v1 in production" in svg
    assert "v1 in production</text>" in svg  # the marker where the version took over
    table = page.split("<summary>The values</summary>", 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 5
    assert table.count("pd-model v1") == 2
    section = page.split('id="kpis"', 1)[1].split("</section>", 1)[0]
    assert "<script" not in section
    assert 'style="' not in section  # the content security policy refuses inline styles: attributes draw it


@pytest.mark.django_db
def test_a_kpi_without_values_says_so_and_draws_no_chart(flow: Flow) -> None:
    _kpi(flow, unit="%")
    client = Client()
    client.force_login(flow.owner)
    page = client.get(f"/projects/{flow.project.slug}/").content.decode()
    assert "Approval rate has not been measured yet; its target is 0.75 %." in page
    assert "kpi-chart" not in page
    assert 'id="kpi-' in page
    assert "New value of Approval rate" in page
