"""Lock order between row locks and the audit chain's lock: two governed writes never deadlock.

Each test lines up two services on PostgreSQL the way a busy project does: a third connection holds
the chain lock, the first service queues on it, the second takes its row locks and queues behind (or
waits on the first's row), then the chain is released. On the old lock order PostgreSQL found a
deadlock here and killed one of the two (a 500 to the person); now both finish.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import pytest
from django.db import connection, connections

from apps.audit.chain import verify
from apps.audit.selectors import audit_chain
from apps.audit.services import CHAIN_LOCK_SQL
from apps.projects import services as projects
from apps.registry import services as registry
from apps.workflows import services as workflows
from tests.workflows.conftest import Flow

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def flow(transactional_db: None) -> Flow:
    return Flow("low")


def _raw_connection() -> Any:
    db = connection.settings_dict
    return psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"])


def _waiting_on_locks(cursor: Any) -> int:
    cursor.execute("SELECT pg_stat_clear_snapshot()")  # else the view keeps its first answer in a transaction
    cursor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return int(cursor.fetchone()[0])


def _wait_until_waiting(
    cursor: Any, count: int, threads: list[threading.Thread], errors: list[BaseException], timeout: float = 20
) -> None:
    deadline = time.monotonic() + timeout
    while _waiting_on_locks(cursor) < count:
        if time.monotonic() > deadline or not all(t.is_alive() for t in threads):
            cursor.execute(
                "SELECT wait_event_type, wait_event, state, query FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            raise AssertionError(
                f"expected {count} sessions waiting on a lock: {cursor.fetchall()}; errors: {errors!r}"
            )
        time.sleep(0.02)


@contextmanager
def _chain_held() -> Iterator[Any]:
    """Hold the audit chain's lock on a separate connection until the block ends."""
    raw = _raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(CHAIN_LOCK_SQL)  # the head row, FOR UPDATE: what every writer of the chain waits on
        assert cursor.fetchone() is not None, "the flow's events recorded a head to lock"
        yield cursor
        raw.commit()
    finally:
        raw.close()


def _race(first: Callable[[], object], second: Callable[[], object]) -> list[BaseException]:
    """Queue ``first`` on the chain lock, then ``second`` behind it; release; return what they raised."""
    errors: list[BaseException] = []

    def run(work: Callable[[], object]) -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads: list[threading.Thread] = []
    with _chain_held() as cursor:
        for count, work in enumerate((first, second), start=1):
            thread = threading.Thread(target=run, args=(work,))
            thread.start()
            threads.append(thread)
            _wait_until_waiting(cursor, count, threads, errors)
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a writer is still blocked after the chain lock was released"
    return errors


def test_a_project_edit_and_a_comment_committing_before_it_do_not_deadlock(flow: Flow) -> None:
    # The comment's deferred foreign key takes FOR KEY SHARE on the project row at commit, while the
    # edit holds that row locked and waits for the chain lock the comment holds.
    errors = _race(
        lambda: projects.comment_add(actor=flow.developer, project=flow.project, body="Data arrives on Monday."),
        lambda: projects.project_update(actor=flow.owner, project=flow.project, business_objective="Decide sooner."),
    )
    assert errors == []
    flow.project.refresh_from_db()
    assert flow.project.business_objective == "Decide sooner."
    assert flow.project.comments.count() == 1
    assert verify(audit_chain()).ok


def test_a_team_change_and_a_new_model_in_the_same_project_do_not_deadlock(flow: Flow) -> None:
    viewer = projects.membership_add(actor=flow.owner, project=flow.project, user=flow.auditor, role="viewer")
    errors = _race(
        lambda: registry.model_create(actor=flow.developer, project=flow.project, name="lgd", task="regression"),
        lambda: projects.membership_remove(actor=flow.owner, membership=viewer),
    )
    assert errors == []
    assert flow.project.models.filter(name="lgd").exists()
    assert not flow.project.memberships.filter(pk=viewer.pk).exists()


def test_a_deployment_and_a_comment_in_its_project_do_not_deadlock(flow: Flow) -> None:
    # Recording a deployment used to lock the version's model and project rows too (FOR UPDATE).
    review = flow.submit()
    flow.decide(flow.validator, review)
    errors = _race(
        lambda: projects.comment_add(actor=flow.developer, project=flow.project, body="Ready when you are."),
        lambda: workflows.deployment_record(actor=flow.it_ops, version=flow.version, environment="production"),
    )
    assert errors == []
    flow.version.refresh_from_db()
    assert flow.version.status == "deployed"


def test_closing_a_review_and_editing_its_version_do_not_deadlock(flow: Flow) -> None:
    # Closing a review writes the version's status after the decision's audit event; an edit of the
    # version locked that row first and then waited for the chain lock.
    review = flow.submit()
    flow.version.refresh_from_db()
    digest = workflows.evidence_digest(flow.version)
    errors = _race(
        lambda: workflows.review_decide(
            actor=flow.validator,
            review=review,
            kind="request_changes",
            comment="Explain the drop in recall.",
            evidence_digest_seen=digest,
        ),
        lambda: registry.version_update(actor=flow.developer, version=flow.version, description="Retrained weekly."),
    )
    assert errors == []
    flow.version.refresh_from_db()
    assert (flow.version.status, flow.version.description) == ("changes_requested", "Retrained weekly.")
    assert verify(audit_chain()).ok


def test_renaming_a_project_s_address_and_a_comment_do_not_deadlock(flow: Flow) -> None:
    # A new slug changes a key: that write needs FOR UPDATE, so it waits for the chain lock first.
    errors = _race(
        lambda: projects.comment_add(actor=flow.developer, project=flow.project, body="Which address now?"),
        lambda: projects.project_update(actor=flow.owner, project=flow.project, slug="credit-scoring-retail"),
    )
    assert errors == []
    flow.project.refresh_from_db()
    assert flow.project.slug == "credit-scoring-retail"
    assert flow.project.comments.count() == 1
