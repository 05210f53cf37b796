"""Judge a monitor's newest window: a metric out of its threshold opens a breach, one back within recovers it.

A breach raises one medium finding per monitor and metric while that finding is open (its source
names both; the findings' partial unique constraint decides) and notifies the monitor's listeners;
for a gate-blocking monitor the gate refuses the version until the metric recovers
(``selectors.gate_refusals``), whatever became of the finding.
"""

from __future__ import annotations

import hashlib

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from apps.audit.actions import Action
from apps.audit.services import audit_record
from apps.monitoring.models import Breach, Monitor, WindowResult
from apps.monitoring.services.common import ACTOR, label, listeners
from apps.monitoring.windows import describe, metric_key, threshold_words
from apps.notifications.choices import Event
from apps.notifications.services import announce
from apps.workflows.choices import FindingSeverity, FindingStatus, FindingType
from apps.workflows.models import Finding
from apps.workflows.services import finding_raise_automatic

BREACHING = "fail"
WITHIN = ("pass", "warn")


def finding_source(monitor: Monitor, key: str) -> str:
    """The finding's source (at most 80 characters): one per monitor and metric while it stays open."""
    return f"monitor:{monitor.pk}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def monitor_url(monitor: Monitor) -> str:
    return reverse("monitoring:monitor_detail", kwargs={"monitor_id": monitor.pk})


def judge_breaches(monitor: Monitor) -> tuple[int, int]:
    """Open and recover breaches from the newest window of ``monitor.breach_window``; return (opened, recovered).

    Runs inside the caller's transaction, which holds the monitor's row. Side effects:
    ``monitoring.breach.opened`` / ``.recovered``, a finding (``finding_raise_automatic``), the
    ``monitor.breached`` / ``monitor.recovered`` notifications.
    """
    size = monitor.breach_window
    newest = WindowResult.objects.filter(monitor=monitor, size=size).aggregate(start=Max("start"))["start"]
    if newest is None:
        return 0, 0
    results = list(WindowResult.objects.filter(monitor=monitor, size=size, start=newest).order_by("position"))
    open_now = {b.key: b for b in Breach.objects.filter(monitor=monitor, recovered_at__isnull=True)}
    target = (monitor.spec.get("columns") or {}).get("target")
    opened = recovered = 0
    for result in results:
        if result.check_name == "quality" and target and result.column == target:
            continue  # outcomes come later than predictions: a label not known yet is not missing data
        key = metric_key(result.as_dict())
        if result.status == BREACHING and key not in open_now:
            _open(monitor, result, key)
            opened += 1
        elif result.status in WITHIN and key in open_now:
            _recover(monitor, open_now[key], result)
            recovered += 1
    return opened, recovered


def _open(monitor: Monitor, result: WindowResult, key: str) -> Breach:
    project = monitor.version.model.project
    words = describe(result.check_name, result.metric, result.column, result.attribute, result.group, result.value)
    limit = threshold_words(result.threshold)
    sentence = f"Since {result.start:%Y-%m-%d %H:00} UTC {words}" + (
        f", beyond the threshold of {limit}." if limit else "."
    )
    finding = finding_raise_automatic(
        version=monitor.version,
        kind=FindingType.VALIDATION_ISSUE,
        # Medium: a finding does not block the gate by itself; a gate-blocking monitor does while it breaches.
        severity=FindingSeverity.MEDIUM,
        raised_by=monitor.created_by,
        actor_name=ACTOR,
        source=finding_source(monitor, key),
        title=f"Monitor {monitor.name}: {result.check_name} {result.metric}"
        + (f" ({result.column or result.attribute})" if result.column or result.attribute else ""),
        description=f"{sentence} Seen in the {result.get_size_display().lower()} window of monitor "
        f"{monitor.name} ({monitor.deployment.environment}). {result.message}".strip(),
        due_days=14,
    )
    if finding is None:  # one is still open for this metric: the breach joins it
        finding = Finding.objects.filter(
            version=monitor.version,
            source=finding_source(monitor, key),
            status__in=(FindingStatus.OPEN, FindingStatus.REMEDIATED),
        ).first()
    breach = Breach.objects.create(
        monitor=monitor,
        key=key,
        check_name=result.check_name,
        metric=result.metric,
        column=result.column,
        attribute=result.attribute,
        group=result.group,
        size=result.size,
        window_start=result.start,
        value=result.value,
        threshold=result.threshold,
        message=sentence,
        finding=finding,
    )
    audit_record(
        actor=None,
        actor_name=ACTOR,
        action=Action.MONITOR_BREACH_OPENED,
        target=breach,
        project=project,
        data={"monitor": monitor.pk, "metric": key, "value": result.value, "window": result.start.isoformat(),
              "finding": finding.pk if finding else None, "gate_blocking": monitor.gate_blocking},
    )  # fmt: skip
    blocking = " The gate refuses this version until it recovers." if monitor.gate_blocking else ""
    announce(
        event=Event.MONITOR_BREACHED,
        title=f"{label(monitor)}: {result.check_name} {result.metric} crossed its threshold",
        body=sentence + blocking,
        recipients=listeners(monitor),
        url=monitor_url(monitor),
        project=project,
        data={"monitor": monitor.pk, "breach": breach.pk, "metric": key, "value": result.value},
    )
    return breach


def _recover(monitor: Monitor, breach: Breach, result: WindowResult) -> None:
    project = monitor.version.model.project
    now = timezone.now()
    Breach.objects.filter(pk=breach.pk).update(recovered_at=now, recovered_window_start=result.start)
    shown = "no value" if result.value is None else f"{result.value:.4g}"
    where = f" of {result.column or result.attribute}" if result.column or result.attribute else ""
    audit_record(
        actor=None,
        actor_name=ACTOR,
        action=Action.MONITOR_BREACH_RECOVERED,
        target=breach,
        project=project,
        data={"monitor": monitor.pk, "metric": breach.key, "value": result.value, "window": result.start.isoformat()},
    )
    finding = f" Finding {breach.finding_id} stays open until someone closes it." if breach.finding_id else ""
    announce(
        event=Event.MONITOR_RECOVERED,
        title=f"{label(monitor)}: {result.check_name} {result.metric} is back within its threshold",
        body=f"In the window from {result.start:%Y-%m-%d %H:00} UTC the {result.metric.replace('_', ' ')}{where} "
        f"is {shown}, within its threshold again.{finding}",
        recipients=listeners(monitor),
        url=monitor_url(monitor),
        project=project,
        data={"monitor": monitor.pk, "breach": breach.pk, "metric": breach.key, "value": result.value},
    )
