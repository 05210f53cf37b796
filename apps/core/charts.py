"""A line chart over a real time axis, as SVG coordinates a template draws (no script, nothing from the internet).

Pure computation over plain data: dates on the x axis with ticks at whole days, weeks or months,
values on the y axis with round ticks, an optional target drawn as a line, each point marked met or
missed, and vertical markers where something changed (a new version in production). Pages build
their sentences; this module only lays the chart out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 24, 40
Y_TICKS = 5
DAY = 86400.0
# Tick steps of the time axis, in days (a month is drawn at the first of each month instead).
DAY_STEPS = (1, 2, 7, 14)


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float
    missed: bool = False
    note: str = ""  # said in the point's tooltip (which version was in production, say)


@dataclass(frozen=True)
class Marker:
    at: datetime
    label: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class DrawnPoint:
    x: float
    y: float
    at: datetime
    value: float
    missed: bool
    note: str

    @property
    def label(self) -> str:
        return format_value(self.value)


@dataclass(frozen=True)
class TimeChart:
    """What a template needs to draw the chart: the plot box, the curve, the ticks, the target, the markers."""

    width: int
    height: int
    left: int
    top: int
    right: float
    bottom: float
    points: list[DrawnPoint]
    polyline: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    target_y: float | None
    markers: list[dict[str, object]] = field(default_factory=list)

    @property
    def plot_width(self) -> float:
        return self.right - self.left

    @property
    def plot_height(self) -> float:
        return self.bottom - self.top

    @property
    def missed(self) -> list[DrawnPoint]:
        return [p for p in self.points if p.missed]


def nice_step(span: float, ticks: int = Y_TICKS) -> float:
    """A round step (1, 2 or 5 times a power of ten) that cuts ``span`` into about ``ticks`` parts."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop ends at 10, which is always enough


def value_ticks(low: float, high: float) -> tuple[float, float, list[float]]:
    """Round bounds around ``low``..``high`` and the ticks between them, lowest first."""
    # Equal, or closer than a chart can tell apart (floats near 1e11 differing in the sixth decimal):
    # the ticks would collapse into one and the scale divide by zero.
    if high - low <= max(abs(high), abs(low)) * 1e-9:
        pad = max(abs(high), abs(low)) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = nice_step(high - low)
    start = math.floor(low / step) * step
    end = math.ceil(high / step) * step
    count = round((end - start) / step)
    ticks = [round(start + i * step, 10) for i in range(count + 1)]
    return start, end, ticks


def format_value(value: float) -> str:
    """A value as a reader writes it: no trailing zeros, at most four significant digits past the point."""
    if value == 0:
        return "0"
    text = f"{value:.4g}" if abs(value) < 10_000 else f"{value:,.0f}"
    if "e" in text:
        text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text


def format_day(moment: datetime) -> str:
    """A date as a business reader says it: "3 Dec"."""
    return f"{moment.day} {moment:%b}"


def _time_ticks(first: datetime, last: datetime) -> list[datetime]:
    """Ticks at UTC midnights: every day, two days, week (Mondays) or fortnight; the first of each month beyond."""
    days = (last - first).total_seconds() / DAY
    start = first.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for step in DAY_STEPS:
        if days / step <= 7:
            if step >= 7:
                start -= timedelta(days=start.weekday())
            ticks = [start + timedelta(days=step * i) for i in range(int(days / step) + 3)]
            return [t for t in ticks if first <= t <= last]
    months, moment = [], start.replace(day=1)
    every = max(1, math.ceil(days / 30 / 7))
    while moment <= last:
        if moment >= first and (moment.month - 1) % every == 0:
            months.append(moment)
        moment = (moment + timedelta(days=32)).replace(day=1)
    return months


def time_chart(points: Sequence[Point], *, target: float | None = None, markers: Sequence[Marker] = ()) -> TimeChart:
    """Lay out ``points`` (any order) over time with the ``target`` line; raises ValueError without points."""
    if not points:
        raise ValueError("A chart needs at least one point.")
    ordered = sorted(points, key=lambda p: p.at)
    first, last = ordered[0].at, ordered[-1].at
    if (last - first).total_seconds() < DAY:  # one day or less: show the day around it
        first, last = first - timedelta(hours=12), last + timedelta(hours=12)
    values = [p.value for p in ordered] + ([target] if target is not None else [])
    low, high, y_values = value_ticks(min(values), max(values))
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    span = (last - first).total_seconds()

    def x(moment: datetime) -> float:
        return round(LEFT + (right - LEFT) * (moment - first).total_seconds() / span, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - TOP) * (value - low) / ((high - low) or 1.0), 1)

    drawn = [DrawnPoint(x(p.at), y(p.value), p.at, p.value, p.missed, p.note) for p in ordered]
    shown = [m for m in markers if first <= m.at <= last]
    return TimeChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        right=right,
        bottom=bottom,
        points=drawn,
        polyline=" ".join(f"{p.x},{p.y}" for p in drawn),
        x_ticks=[Tick(x(t), format_day(t)) for t in _time_ticks(first, last)],
        y_ticks=[Tick(y(v), format_value(v)) for v in y_values],
        target_y=y(target) if target is not None else None,
        # A label near the right edge is written leftwards of its line, so it stays inside the chart.
        markers=[
            {"x": x(m.at), "label": m.label, "anchor": "end" if x(m.at) > (LEFT + right) / 2 else "start"}
            for m in shown
        ],
    )
