"""Governance changes of a version MLflow holds queue its write-back and its alias check, once committed.

What is queued is read back from the real broker (Redis), where the tasks wait for a worker.
"""

from __future__ import annotations

import json

import pytest
import redis
from django.conf import settings

from apps.integrations.receivers import CHECK_ALIASES, WRITE_BACK
from apps.integrations.services.aliases import aliases_check
from apps.integrations.services.writeback import write_back
from apps.workflows import services
from portal.celery import app
from tests.integrations.guard import Guarded

pytestmark = pytest.mark.django_db

OURS = {WRITE_BACK, CHECK_ALIASES}


@pytest.fixture
def broker():
    """The tasks this test queues on this run's queue, as (name, args), oldest first."""
    client = redis.Redis.from_url(str(settings.CELERY_BROKER_URL))
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    client.delete(queue)

    def queued() -> list[tuple[str, str]]:
        found = []
        waiting: list[bytes] = client.lrange(queue, 0, -1)  # type: ignore[assignment]  # a sync client
        for raw in reversed(waiting):  # kombu pushes on the left
            headers = json.loads(raw)["headers"]
            if headers["task"] in OURS:
                found.append((headers["task"], headers["argsrepr"]))
        return found

    yield queued
    client.delete(queue)


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> Guarded:
    return Guarded(monkeypatch)


def test_the_task_names_sent_are_registered() -> None:
    app.loader.import_default_modules()
    assert sorted(OURS - set(app.tasks)) == []


def test_submitting_and_approving_a_mirrored_version_queue_its_write_back_and_alias_check(
    guarded: Guarded, broker, django_capture_on_commit_callbacks
) -> None:
    mirror, model = guarded.mirrors[1].pk, guarded.mlflow_model.pk
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        guarded.submit()
    assert broker() == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert (WRITE_BACK, f"({mirror},)") in broker()
    assert (CHECK_ALIASES, f"({model},)") in broker()
    with django_capture_on_commit_callbacks(execute=True):
        guarded.decide(guarded.validator, guarded.version.reviews.get())
    assert broker().count((WRITE_BACK, f"({mirror},)")) >= 2


def test_a_card_edit_a_deployment_and_a_retirement_are_followed(
    guarded: Guarded, broker, django_capture_on_commit_callbacks
) -> None:
    guarded.approve(guarded.version)
    mirror = guarded.mirrors[1].pk
    for change in (
        lambda: services.deployment_record(actor=guarded.it_ops, version=guarded.version, environment="production"),
        lambda: guarded.make_stale(guarded.version),
        lambda: services.version_retire(actor=guarded.owner, version=guarded.version, reason="Replaced."),
    ):
        before = broker().count((WRITE_BACK, f"({mirror},)"))
        with django_capture_on_commit_callbacks(execute=True):
            change()
        assert broker().count((WRITE_BACK, f"({mirror},)")) == before + 1


def test_a_version_mlflow_does_not_hold_queues_nothing(
    guarded: Guarded, broker, django_capture_on_commit_callbacks
) -> None:
    other = guarded.new_version()
    with django_capture_on_commit_callbacks(execute=True):
        services.version_submit(actor=guarded.developer, version=other)
    assert broker() == []


def test_a_blocking_finding_on_the_model_queues_the_alias_check_only(
    guarded: Guarded, broker, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.finding_raise(
            actor=guarded.validator,
            model=guarded.model,
            version=None,
            owner=guarded.developer,
            kind="validation_issue",
            severity="high",
            title="Drift",
        )
    assert broker() == [(CHECK_ALIASES, f"({guarded.mlflow_model.pk},)")]


def test_the_bridges_own_events_queue_nothing(
    monkeypatch: pytest.MonkeyPatch, broker, django_capture_on_commit_callbacks
) -> None:
    guarded = Guarded(monkeypatch)
    guarded.point("champion", 1)
    with django_capture_on_commit_callbacks(execute=True):
        aliases_check(guarded.mlflow_model)  # its finding and its event
    assert broker() == []
    assert write_back(guarded.mirrors[1]) is False  # a draft never submitted: no tags, no call
