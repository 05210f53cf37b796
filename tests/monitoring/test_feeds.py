"""The periodic checks: monitors not fed for longer than expected, raw batches past their retention."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.monitoring import services
from apps.monitoring.models import Batch, BatchProfile, Monitor
from apps.notifications.models import Notification
from tests.monitoring.conftest import Watched, hour, settle, traffic


def test_a_monitor_not_fed_for_longer_than_expected_is_told_once_until_a_batch_comes(flow, tmp_path: Path) -> None:
    watched = Watched(flow, tmp_path, expected_interval_minutes=60)
    assert services.monitors_check_feeds() == 0
    Monitor.objects.filter(pk=watched.monitor.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert services.monitors_check_feeds() == 1
    assert services.monitors_check_feeds() == 0  # told once
    told = {n.recipient.username for n in Notification.objects.filter(event="monitor.feed_late")}
    assert {flow.developer.username, flow.it_ops.username, flow.owner.username} <= told
    assert AuditEvent.objects.filter(action="monitoring.monitor.feed_late").count() == 1
    watched.send(traffic(20, start=hour(1), seed=1), "b.csv")
    watched.monitor.refresh_from_db()
    assert watched.monitor.feed_late_since is None
    assert AuditEvent.objects.filter(action="monitoring.monitor.feed_resumed").count() == 1


def test_a_monitor_without_an_expected_interval_is_never_late(watched: Watched) -> None:
    Monitor.objects.filter(pk=watched.monitor.pk).update(created_at=timezone.now() - timedelta(days=30))
    assert services.monitors_check_feeds() == 0


def test_raw_batches_past_retention_are_deleted_and_their_profiles_stay(
    flow, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    watched = Watched(flow, tmp_path, retention_days=7)
    old, _new = watched.send(traffic(50, start=hour(1), seed=1), "old.csv")
    recent, _new = watched.send(traffic(50, start=hour(1), seed=2, first_id=100), "recent.csv")
    settle(watched)
    Batch.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=8))
    path = Path(old.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.batches_expire() == 1
    old.refresh_from_db()
    assert (old.file.name, old.raw_deleted_at is not None, path.exists()) == ("", True, False)
    assert BatchProfile.objects.filter(batch=old).exists()
    assert Path(recent.file.path).exists()
    assert AuditEvent.objects.filter(action="monitoring.batch.raw_deleted", target_id=str(old.pk)).count() == 1
    assert services.batches_expire() == 0
