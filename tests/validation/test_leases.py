"""Short leases renewed by a heartbeat, and a sweep that re-sends what a dead worker or broker lost.

Issue #10: a killed worker stranded its runs as ``running`` for the whole lease (time limit + 30 s,
about 31 minutes). The lease is now short and renewed by a heartbeat thread while the worker lives.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from apps.validation import services
from apps.validation.heartbeat import Heartbeat
from apps.validation.models import ValidationRun
from apps.validation.services import execution
from tests.validation.conftest import SUITE
from tests.workflows.conftest import Flow


def queued_run(flow: Flow, data) -> ValidationRun:
    reference, current = data
    return services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )


def test_a_claim_lasts_the_short_lease_not_the_run_time_limit(flow: Flow, data, settings) -> None:
    assert settings.SIGNET_VALIDATION_LEASE_SECONDS == 45
    assert settings.SIGNET_VALIDATION_TIME_LIMIT_SECONDS == 1800
    run = services.run_claim(queued_run(flow, data).pk, "w1")
    assert run is not None
    assert run.lease_expires_at is not None
    assert timedelta(seconds=40) < run.lease_expires_at - timezone.now() <= timedelta(seconds=45)


@pytest.fixture
def live_flow(transactional_db: None) -> Flow:
    return Flow("low")


@override_settings(SIGNET_VALIDATION_LEASE_SECONDS=2)
def test_the_heartbeat_keeps_a_silent_run_claimed_and_stops_once_another_worker_takes_it_over(
    live_flow: Flow, tmp_path
) -> None:
    from tests.validation.conftest import evaluation_table, upload

    flow = live_flow
    reference = upload(flow, evaluation_table(seed=1), tmp_path, "reference.parquet")
    current = upload(flow, evaluation_table(seed=2), tmp_path, "current.parquet")
    run = services.run_create(actor=flow.developer, version=flow.version, reference=reference, current=current)
    claimed = services.run_claim(run.pk, "w1")
    assert claimed is not None

    def renew() -> bool:
        return services.run_lease_renew(run_id=claimed.pk, attempt=claimed.attempts)

    with Heartbeat(renew, interval=0.2, name="test heartbeat") as heartbeat:
        time.sleep(4.5)  # more than twice the lease, with no progress at all
        assert services.run_claim(run.pk, "w2") is None  # still held by w1
        assert heartbeat.beats >= 5  # of about 20: slack for a loaded machine
        assert not heartbeat.lost.is_set()
        # w1 stalled past its lease (a pause, a partition) and w2 claimed the run: what w2's claim writes.
        ValidationRun.objects.filter(pk=run.pk).update(attempts=F("attempts") + 1, worker="w2")
        assert heartbeat.lost.wait(timeout=2)
    assert execution._finish(claimed, "succeeded", result={"results": []}).startswith("not recorded")
    assert ValidationRun.objects.get(pk=run.pk).worker == "w2"


def test_the_sweep_sends_at_once_a_run_whose_message_never_reached_the_broker(flow: Flow, data) -> None:
    unsent, fresh = queued_run(flow, data), queued_run(flow, data)
    ValidationRun.objects.filter(pk=unsent.pk).update(enqueued_at=None)  # what a failed send leaves
    assert services.runs_sweep() == 1
    assert ValidationRun.objects.get(pk=unsent.pk).enqueued_at is not None
    assert services.runs_sweep() == 0
    assert ValidationRun.objects.get(pk=fresh.pk).enqueued_at is not None


@override_settings(SIGNET_VALIDATION_RESEND_SECONDS=60)
def test_a_dead_workers_run_is_sent_again_when_the_takeover_message_was_lost_too(flow: Flow, data) -> None:
    run = queued_run(flow, data)
    now = timezone.now()
    ValidationRun.objects.filter(pk=run.pk).update(
        status="running", attempts=1, enqueued_at=now - timedelta(seconds=50), lease_expires_at=now
    )
    assert services.runs_sweep() == 1  # its lease expired: sent once
    assert services.runs_sweep() == 0
    # Nobody claimed it (the message died with a second worker): after the resend period it goes again.
    ValidationRun.objects.filter(pk=run.pk).update(enqueued_at=now - timedelta(seconds=61))
    assert services.runs_sweep() == 1


def test_a_queued_run_is_sent_again_after_one_sweep_interval_when_the_broker_has_no_message_waiting(
    flow: Flow, data
) -> None:
    from portal.celery import app

    run = queued_run(flow, data)
    app.control.purge()  # what a broker restarted without its data holds: nothing
    waited = timezone.now() - timedelta(seconds=20)  # more than a sweep interval, less than the resend period
    ValidationRun.objects.filter(pk=run.pk).update(enqueued_at=waited)
    assert services.runs_sweep() == 1
    ValidationRun.objects.filter(pk=run.pk).update(enqueued_at=waited)
    assert services.runs_sweep() == 0  # now its message waits in the queue: no duplicate
    app.control.purge()
