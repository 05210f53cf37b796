"""Eight people writing in one project at once, through HTTP to a real server: never a 5xx.

Every kind of governed write takes part (project edits, team changes, the risk questionnaire, KPI
values, comments, models, versions, model cards, findings, submissions and decisions, deployments,
dataset uploads) against gunicorn on PostgreSQL; afterwards the audit chain verifies.

``SIGNET_CONCURRENCY_SECONDS`` sets the duration; the suite runs a short burst, the acceptance
figure is 60 s: ``SIGNET_CONCURRENCY_SECONDS=60 pytest tests/core/test_concurrency_http.py -s``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest

from apps.accounts.services import api_token_create
from apps.audit.models import AuditEvent
from apps.projects import services as projects
from apps.registry import services as registry
from tests.conftest import Org
from tests.factories import PASSWORD, TeamFunction, csv_bytes, make_user
from tests.projects.test_permission_matrix import ANSWERS
from tests.servers import Http, Response, database_url, portal_server
from tests.workflows.conftest import FULL_CARD

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 8
SECONDS = float(os.environ.get("SIGNET_CONCURRENCY_SECONDS", "10"))
ROOT = Path(__file__).resolve().parents[2]


class Scenario:
    """The project, its people's clients and one step per kind of write; each step records its answers."""

    def __init__(self, org: Org, base: str, tokens: dict[str, str]) -> None:
        self.org, self.base, self.tokens = org, base, tokens
        self.slug = org.project.slug
        self.kpi = projects.kpi_create(actor=org.owner, project=org.project, name="Approval rate", target=Decimal(80))
        self.viewers = [make_user(f"viewer{n}", TeamFunction.BUSINESS).username for n in range(WRITERS)]
        self.answers: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        self._serial = count()

    def api(self, persona: str) -> Http:
        return Http(self.base, token=self.tokens[persona])

    def note(self, kind: str, response: Response) -> Response:
        with self._lock:
            self.answers[(kind, response.status)] += 1
        return response

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self._serial)}"

    # --- one method per kind of write; ``me`` is the writer's number ---------------------------------

    def project_edit(self, me: int, clients: dict[str, Http]) -> None:
        body = {"business_objective": f"Decide on credit lines faster ({self.unique('edit')})."}
        self.note("project_edit", self.api("owner").request("PATCH", f"/api/v1/projects/{self.slug}/", json_body=body))

    def qualification(self, me: int, clients: dict[str, Http]) -> None:
        path = f"/api/v1/projects/{self.slug}/qualification/"
        self.note("qualification", self.api("owner").request("PUT", path, json_body={"answers": ANSWERS}))

    def team_change(self, me: int, clients: dict[str, Http]) -> None:
        path, member = f"/api/v1/projects/{self.slug}/members/", {"username": self.viewers[me], "role": "viewer"}
        owner = self.api("owner")
        self.note("membership_add", owner.request("POST", path, json_body=member))
        self.note("membership_remove", owner.request("DELETE", path, json_body=member))

    def kpi_value(self, me: int, clients: dict[str, Http]) -> None:
        path = f"/projects/{self.slug}/kpis/{self.kpi.pk}/values/"
        self.note("kpi_value", clients["developer"].request("POST", path, form={"value": f"{70 + me}.5"}))

    def comment(self, me: int, clients: dict[str, Http]) -> None:
        path = f"/projects/{self.slug}/discussion/"
        body = {"body": f"Writer {me} checks in ({self.unique('c')})."}
        self.note("comment", clients["business_owner"].request("POST", path, form=body))

    def model_and_version(self, me: int, clients: dict[str, Http]) -> None:
        developer = self.api("developer")
        body = {"project": self.slug, "name": self.unique("pd-model"), "task": "binary_classification"}
        created = self.note("model_create", developer.request("POST", "/api/v1/models/", json_body=body))
        if created.status == 201:
            path = f"/api/v1/models/{created.json()['id']}/versions/"
            self.note("version_create", developer.request("POST", path, json_body={"framework": "sklearn"}))

    def card_edit(self, me: int, clients: dict[str, Http]) -> None:
        path = f"/api/v1/versions/{self.org.version.pk}/card/"
        sections = {"limitations": f"Not for small business lending ({self.unique('card')})."}
        self.note("card_edit", self.api("developer").request("PUT", path, json_body={"sections": sections}))

    def finding(self, me: int, clients: dict[str, Http]) -> None:
        validator = self.api("validator")
        body = {
            "model": self.org.model.pk,
            "kind": "model_limitation",
            "severity": "low",
            "title": self.unique("Thin data for young applicants"),
            "owner": self.org.developer.username,
        }
        raised = self.note("finding_raise", validator.request("POST", "/api/v1/findings/", json_body=body))
        if raised.status == 201:
            path = f"/api/v1/findings/{raised.json()['id']}/"
            self.note("finding_close", validator.request("PATCH", path, json_body={"status": "closed"}))

    def review_cycle(self, me: int, clients: dict[str, Http]) -> None:
        """A new version of the shared model: card, submission, a decision, and a deployment if approved."""
        developer, validator = self.api("developer"), self.api("validator")
        created = self.note(
            "version_create",
            developer.request("POST", f"/api/v1/models/{self.org.model.pk}/versions/", json_body={"framework": "xgb"}),
        )
        if created.status != 201:
            return
        version = created.json()["id"]
        card = developer.request("PUT", f"/api/v1/versions/{version}/card/", json_body={"sections": FULL_CARD})
        self.note("card_edit", card)
        submitted = self.note("submit", developer.request("POST", f"/api/v1/versions/{version}/submit/"))
        if submitted.status != 201:
            return
        review = submitted.json()
        kind = "approve" if me % 2 else "request_changes"
        decision = {"kind": kind, "comment": "Checked the evidence.", "evidence_digest": review["evidence_digest"]}
        decided = validator.request("POST", f"/api/v1/reviews/{review['id']}/decisions/", json_body=decision)
        self.note("decision", decided)
        if decided.status == 201 and kind == "approve":
            body = {"version": version, "environment": "production"}
            self.note("deployment", self.api("it_ops").request("POST", "/api/v1/deployments/", json_body=body))

    def dataset_upload(self, me: int, clients: dict[str, Http]) -> None:
        path = f"/api/v1/datasets/{self.org.dataset.pk}/versions/"
        files = {"file": (f"applications-{me}.csv", csv_bytes(20 + me))}
        self.note("dataset_upload", self.api("developer").request("POST", path, files=files))

    def steps(self) -> list[Callable[[int, dict[str, Http]], None]]:
        return [
            self.project_edit,
            self.team_change,
            self.kpi_value,
            self.comment,
            self.model_and_version,
            self.card_edit,
            self.finding,
            self.review_cycle,
            self.dataset_upload,
            self.qualification,
        ]


def test_eight_concurrent_writers_of_every_kind_get_no_5xx_and_the_chain_verifies(org: Org, tmp_path: Path) -> None:
    projects.qualification_submit(actor=org.owner, project=org.project, answers=ANSWERS)  # low tier
    registry.card_update(actor=org.developer, card=org.version.card, sections=FULL_CARD)
    personas = ("owner", "business_owner", "developer", "validator", "it_ops")
    tokens = {name: _token_for(org, name) for name in personas}
    errors: list[BaseException] = []
    with portal_server(tmp_path / "web.log", workers=2, threads=WRITERS // 2) as base:
        scenario = Scenario(org, base, tokens)
        steps = scenario.steps()
        start = threading.Barrier(WRITERS)

        def writer(me: int) -> None:
            try:
                clients = {name: Http(base) for name in ("developer", "business_owner")}
                for name, client in clients.items():
                    assert client.sign_in(org.persona(name).username, PASSWORD).status == 302
                start.wait()
                deadline = time.monotonic() + SECONDS
                for n in count():
                    if time.monotonic() >= deadline:
                        return
                    steps[(me + n) % len(steps)](me, clients)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(me,)) for me in range(WRITERS)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - began

    assert errors == []
    answers = scenario.answers
    total = sum(answers.values())
    server_errors = {key: n for key, n in answers.items() if key[1] >= 500}
    per_kind = {kind: sorted((s, n) for (k, s), n in answers.items() if k == kind) for kind, _ in answers}
    print(f"\n{WRITERS} writers for {took:.0f} s: {total} writes, {sum(server_errors.values())} answered 5xx")
    for kind, statuses in sorted(per_kind.items()):
        print(f"  {kind:18} {statuses}")
    assert server_errors == {}, (server_errors, (tmp_path / "web.log").read_text(errors="replace")[-6000:])
    succeeded = {kind for (kind, status), _ in answers.items() if status < 400}
    assert succeeded >= {"project_edit", "membership_add", "kpi_value", "comment", "model_create", "card_edit"}
    assert succeeded >= {"finding_raise", "submit", "decision", "dataset_upload", "qualification"}

    verified = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database_url()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert last == AuditEvent.objects.count()  # gap-free


def _token_for(org: Org, persona: str) -> str:
    _token, raw = api_token_create(actor=None, user=org.persona(persona), name="concurrency", days=1)
    return raw
