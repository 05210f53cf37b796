"""Demo monitoring (seed_demo): a monitor on every deployed demo version, fed two weeks of traffic, and KPI histories.

Everything goes through the services, so the audit trail tells the story: the developer sets up
each monitor, IT operations' serving process sends a batch a day, the worker of ``make run``
profiles them (``monitoring.batch.profiled``) and judges the newest day. The claims router's traffic
drifts in its last days (more claims through the app, larger amounts), so its monitor breaches and
raises a finding; the footfall forecast's stays within its thresholds. The random numbers are
seeded: every demo gets the same traffic, dated from the day it is seeded.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django.utils import timezone

from apps.accounts.models import User
from apps.monitoring import services
from apps.monitoring.models import Monitor
from apps.projects import services as projects
from apps.projects.models import Kpi, Project
from apps.registry import services as registry
from apps.registry.choices import VersionStatus
from apps.registry.models import DatasetVersion, ModelVersion
from apps.workflows.models import Deployment

DAYS = 14  # two weeks of daily batches, the newest one yesterday (a whole UTC day)
ROWS = 960  # predictions a day: enough that the PSI of a day that does not drift stays far below 0.2
DRIFT_FROM = 9  # the claims router's traffic drifts from the tenth day on, fully by the last
FEED_MINUTES = 25 * 60  # a batch a day, with an hour's grace before "not fed for longer than expected"

BRANCHES = np.array([f"B{n:02d}" for n in range(1, 41)])
WEEKDAYS = np.array(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
CHANNELS = np.array(["phone", "web", "app", "broker"])
CLAIM_TYPES = np.array(["motor", "home", "travel", "health"])
TEAMS = np.array(["fast-track", "standard", "specialist", "fraud-review"])


def _quality(columns: list[str]) -> list[dict[str, Any]]:
    return [{"check": "quality", "metric": "missing_rate", "column": c, "max": 0.05} for c in columns]


FOOTFALL_SUITE = {
    "task": "regression",
    "columns": {
        "target": "visitors",
        "prediction": "predicted_visitors",
        "numeric": ["temperature", "visitors_last_week"],
        "categorical": ["branch", "weekday"],
    },
    "checks": [{"check": "drift", "metric": "psi", "max": 0.2}, *_quality(["temperature", "visitors_last_week"])],
}
CLAIMS_SUITE = {
    "task": "multiclass",
    "columns": {
        "target": "team",
        "prediction": "predicted_team",
        "numeric": ["claim_amount", "policy_age_days"],
        "categorical": ["channel", "claim_type"],
    },
    "checks": [{"check": "drift", "metric": "psi", "max": 0.2}, *_quality(["claim_amount", "policy_age_days"])],
}


def _footfall(rows: int, rng: np.random.Generator, drift: float = 0.0) -> dict[str, Any]:
    """Hourly visitor forecasts per branch: the weather, last week's visitors, and the model's forecast."""
    temperature = rng.normal(12, 6, rows).round(1)
    last_week = rng.gamma(6, 9, rows).round()
    visitors = np.maximum(0, last_week * rng.normal(1.0, 0.12, rows) + 0.8 * (temperature - 12)).round()
    return {
        "branch": rng.choice(BRANCHES, rows),
        "weekday": rng.choice(WEEKDAYS, rows),
        "temperature": temperature,
        "visitors_last_week": last_week,
        "predicted_visitors": np.maximum(0, last_week + 0.7 * (temperature - 12)).round(),
        "visitors": visitors,
    }


def _claims(rows: int, rng: np.random.Generator, drift: float = 0.0) -> dict[str, Any]:
    """Incoming claims: amount, age of the policy, channel, type; the team that handled it and the routing."""
    app = 0.15 + 0.40 * drift  # at full drift half the claims come through the app
    channel = rng.choice(CHANNELS, rows, p=[0.45 - 0.25 * drift, 0.30 - 0.10 * drift, app, 0.10 - 0.05 * drift])
    amount = rng.lognormal(7.2 + 0.6 * drift, 0.8, rows).round(2)
    kind = rng.choice(CLAIM_TYPES, rows, p=[0.4, 0.3, 0.2, 0.1])
    team = np.where(amount < 900, "fast-track", np.where(amount < 4000, "standard", "specialist"))
    team = np.where(rng.random(rows) < 0.03, "fraud-review", team)
    wrong = rng.random(rows) < 0.12
    return {
        "claim_amount": amount,
        "policy_age_days": rng.integers(0, 3650, rows),
        "channel": channel,
        "claim_type": kind,
        "predicted_team": np.where(wrong, rng.choice(TEAMS, rows), team),
        "team": team,
    }


def _write(columns: dict[str, Any], folder: Path, name: str) -> Path:
    path = folder / name
    pq.write_table(pa.table(columns), path)
    return path


def _reference(
    developer: User, project: Project, name: str, make: Callable[..., dict[str, Any]], seed: int
) -> DatasetVersion:
    dataset = registry.dataset_create(
        actor=developer,
        project=project,
        name=name,
        description="The data the deployed version was approved on: its monitor compares production with it.",
        source="Model monitoring",
        sensitivity="internal",
    )
    with tempfile.TemporaryDirectory(prefix="signet-demo-") as folder:
        path = _write(make(4000, np.random.default_rng(seed)), Path(folder), f"{seed}-reference.parquet")
        return registry.dataset_version_upload(actor=developer, dataset=dataset, path=path, original_name=path.name)


def _feed(monitor: Monitor, make: Callable[..., dict[str, Any]], seed: int, *, drifts: bool) -> int:
    """Send a batch a day for DAYS days (IT operations' serving process), the newest being yesterday."""
    itops = User.objects.get(username="itops")
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rng = np.random.default_rng(seed)
    sent = 0
    with tempfile.TemporaryDirectory(prefix="signet-demo-") as folder:
        for day in range(DAYS):
            start = today - timedelta(days=DAYS - day)
            drift = min(1.0, max(0.0, (day - DRIFT_FROM + 1) / (DAYS - DRIFT_FROM))) if drifts else 0.0
            columns = make(ROWS, rng, drift)
            columns.pop(monitor.spec["columns"]["target"])  # the outcome is not known when the model predicts
            seconds = np.sort(rng.integers(0, 86400, ROWS))
            columns["prediction_id"] = [f"{monitor.pk}-{day:02d}-{i:04d}" for i in range(ROWS)]
            columns["timestamp"] = pa.array(
                [start + timedelta(seconds=int(s)) for s in seconds], pa.timestamp("us", "UTC")
            )
            path = _write(columns, Path(folder), f"{start:%Y-%m-%d}.parquet")
            services.batch_receive(
                actor=itops, monitor=monitor, kind="predictions", path=path, original_name=path.name,
                key=f"demo-{start:%Y-%m-%d}",
            )  # fmt: skip
            sent += 1
    return sent


def _monitor(version: ModelVersion, reference: DatasetVersion, spec: dict[str, Any]) -> Monitor:
    deployment = Deployment.objects.filter(version=version, environment="production").order_by("-deployed_at").first()
    assert deployment is not None, f"{version} is deployed to production by the workflows demo"
    return services.monitor_create(
        actor=User.objects.get(username="developer"),
        deployment=deployment,
        name="production",
        reference=reference,
        spec=spec,
        window_sizes=["day", "week"],
        breach_window="day",
        notify_roles=["owner", "developer", "it_ops"],
        gate_blocking=True,
        expected_interval_minutes=FEED_MINUTES,
    )


def _kpi_history(project: Project, name: str, target: str, unit: str, direction: str, values: list[str]) -> None:
    """A KPI measured weekly, the newest value today (while the version is in production)."""
    business = User.objects.get(username="business")
    kpi = Kpi.objects.filter(project=project, name=name).first() or projects.kpi_create(
        actor=business, project=project, name=name, target=Decimal(target), unit=unit, direction=direction
    )
    now = timezone.now()
    for weeks, value in zip(range(len(values) - 1, -1, -1), values, strict=True):
        at = now - timedelta(weeks=weeks) if weeks else now
        projects.kpi_record_value(actor=business, kpi=kpi, value=Decimal(value), measured_at=at)


def seed() -> int:
    """Monitor the deployed versions of footfall and claims and feed them, once; return how many monitors."""
    if Monitor.objects.exists():
        return 0
    developer = User.objects.get(username="developer")
    watched = [
        ("footfall-forecast", "Branch visits, hourly", _footfall, FOOTFALL_SUITE, 21, False),
        ("claims-router", "Claims received", _claims, CLAIMS_SUITE, 31, True),
    ]
    created = 0
    for model_name, dataset, make, spec, seed_value, drifts in watched:
        version = (
            ModelVersion.objects.select_related("model__project")
            .filter(model__name=model_name, status=VersionStatus.DEPLOYED)
            .order_by("-number")
            .first()
        )
        if version is None:
            continue
        reference = _reference(developer, version.model.project, dataset, make, seed_value)
        monitor = _monitor(version, reference, spec)
        _feed(monitor, make, seed_value + 1, drifts=drifts)
        created += 1
    footfall = Project.objects.filter(slug="branch-footfall").first()
    if footfall is not None:
        _kpi_history(footfall, "Forecast error (MAPE)", "12", "%", "lower",
                     ["11.8", "11.2", "10.9", "11.5", "10.7", "10.4", "10.1"])  # fmt: skip
    claims = Project.objects.filter(slug="claims-triage").first()
    if claims is not None:
        _kpi_history(claims, "Claims routed right first time", "85", "%", "higher",
                     ["86", "88", "87", "89", "88", "84", "81"])  # fmt: skip
    return created
