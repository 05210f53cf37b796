"""Chain verification runs in a real Celery worker on Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import TeamFunction, make_user
from tests.workers import celery_worker, wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_auditor_starts_a_verification_that_a_worker_runs_and_records(tmp_path: Path) -> None:
    auditor = make_user("aude", TeamFunction.AUDIT)
    client = signed_in(auditor)
    with celery_worker(tmp_path / "worker.log"):
        response = client.post("/audit/verify/")
        assert response.status_code == 302
        assert wait_for(lambda: AuditEvent.objects.filter(action="audit.chain.verified").exists()), (
            tmp_path / "worker.log"
        ).read_text()
    event = AuditEvent.objects.get(action="audit.chain.verified")
    assert (event.actor_id, event.auth_method) == (auditor.pk, "task")
    assert event.data["checked"] == event.seq - 1
    assert event.data["broken_seq"] is None
    page = client.get("/audit/verification/").content.decode()
    assert f"Intact: {event.seq - 1} events verified" in page
