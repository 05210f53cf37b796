"""The workflows API, operation by operation: submit, review detail, delegate, findings, deployments.

Each operation is called for what it is for (status and body), refused to a person without the
right (403, with the service's reason), refused on bad input (400, naming the field), and a refused
call changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.registry import services as registry
from apps.workflows.models import Delegation, Deployment, Finding, Review
from tests.conftest import bearer
from tests.matrix import built_once_per_module
from tests.workflows.conftest import Flow

pytestmark = pytest.mark.django_db

shared_flow = built_once_per_module(lambda: Flow("low"))


@pytest.fixture
def flow(shared_flow: Flow, db: None) -> Flow:
    """The module's ``Flow`` (a low-risk project, a complete card), in this test's savepoint."""
    for instance in (shared_flow.project, shared_flow.model, shared_flow.version, shared_flow.dataset):
        instance.refresh_from_db()
    return shared_flow


@pytest.fixture
def api(token_for):
    def client_for(user: User) -> Client:
        return Client(headers=bearer(token_for(user)))

    return client_for


def _post(client: Client, url: str, data: dict[str, Any] | None = None):
    return client.post(url, data or {}, content_type="application/json")


def _error(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code, error
    return error


def _version_status(api, flow: Flow) -> str:
    response = api(flow.developer).get(f"/api/v1/versions/{flow.version.pk}/")
    assert response.status_code == 200, response.content
    return str(response.json()["status"])


def _submitted(api, flow: Flow) -> dict[str, Any]:
    response = _post(api(flow.developer), f"/api/v1/versions/{flow.version.pk}/submit/")
    assert response.status_code == 201, response.content
    return dict(response.json())


def _approved(api, flow: Flow) -> dict[str, Any]:
    review = _submitted(api, flow)
    decided = _post(
        api(flow.validator),
        f"/api/v1/reviews/{review['id']}/decisions/",
        {"kind": "approve", "comment": "Sound.", "evidence_digest": review["evidence_digest"]},
    )
    assert decided.status_code == 201, decided.content
    return review


def _events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


# Submit ---------------------------------------------------------------------------------------------


def test_a_developer_submits_a_version_and_the_answer_is_its_open_review(flow: Flow, api) -> None:
    review = _submitted(api, flow)
    assert review["status"] == "open"
    assert review["kind"] == "submission"
    assert review["cycle"] == 1
    assert (review["project"], review["model"]) == (flow.project.slug, flow.model.name)
    assert (review["version_id"], review["version_number"]) == (flow.version.pk, flow.version.number)
    assert review["submitted_by"] == flow.developer.username
    assert len(review["evidence_digest"]) == 64
    assert [(s["key"], s["approvals"], s["passed"]) for s in review["stage_progress"]] == [("validation", 0, False)]
    assert review["decisions"] == []
    assert _version_status(api, flow) == "in_review"
    assert _events("registry.model_version.submitted") == 1


def test_a_validator_cannot_submit_and_the_version_stays_a_draft(flow: Flow, api) -> None:
    error = _error(_post(api(flow.validator), f"/api/v1/versions/{flow.version.pk}/submit/"), 403, "permission_denied")
    assert error["message"] == "Only the project's owners and developers submit versions."
    assert _version_status(api, flow) == "draft"
    assert not Review.objects.exists()


def test_a_version_with_an_unfinished_card_is_not_submitted(flow: Flow, api) -> None:
    bare = registry.version_create(actor=flow.developer, model=flow.model, framework="sklearn")
    error = _error(_post(api(flow.developer), f"/api/v1/versions/{bare.pk}/submit/"), 400, "invalid")
    assert error["message"].startswith("The request has invalid fields: card: Complete the model card first")
    assert "card" in error["details"]
    assert not Review.objects.filter(version=bare).exists()


def test_a_second_submission_while_a_review_is_open_is_refused(flow: Flow, api) -> None:
    _submitted(api, flow)
    error = _error(_post(api(flow.developer), f"/api/v1/versions/{flow.version.pk}/submit/"), 400, "invalid")
    assert "already open" in error["details"]["status"][0]
    assert Review.objects.count() == 1


def test_someone_outside_the_project_cannot_find_the_version_to_submit(flow: Flow, api) -> None:
    _error(_post(api(flow.outsider), f"/api/v1/versions/{flow.version.pk}/submit/"), 404, "not_found")
    assert _post(Client(), f"/api/v1/versions/{flow.version.pk}/submit/").status_code == 401
    assert _version_status(api, flow) == "draft"


# Review detail ---------------------------------------------------------------------------------------


def test_a_review_reads_the_same_for_every_person_who_can_see_it(flow: Flow, api) -> None:
    review = _approved(api, flow)
    for reader in (flow.validator, flow.developer, flow.auditor, flow.administrator):
        response = api(reader).get(f"/api/v1/reviews/{review['id']}/")
        assert response.status_code == 200, (reader.username, response.content)
        body = response.json()
        assert body["status"] == "approved"
        assert body["expires_at"]
        assert body["closed_at"]
        assert [(d["decider"], d["kind"], d["stage"]) for d in body["decisions"]] == [
            (flow.validator.username, "approve", "validation")
        ]
        assert body["stage_progress"][0]["passed"] is True


def test_a_review_is_not_found_for_outsiders_nor_for_unknown_ids(flow: Flow, api) -> None:
    review = _submitted(api, flow)
    _error(api(flow.outsider).get(f"/api/v1/reviews/{review['id']}/"), 404, "not_found")
    _error(api(flow.validator).get("/api/v1/reviews/999999/"), 404, "not_found")
    assert Client().get(f"/api/v1/reviews/{review['id']}/").status_code == 401


# Delegate --------------------------------------------------------------------------------------------


def test_a_validator_hands_the_decision_to_another_validator(flow: Flow, api) -> None:
    review = _submitted(api, flow)
    url = f"/api/v1/reviews/{review['id']}/delegate/"
    response = _post(api(flow.validator), url, {"username": flow.validator2.username, "reason": "On leave."})
    assert response.status_code == 201, response.content
    assert response.json() == {"delegated_to": flow.validator2.username}
    assert _events("workflows.review.delegated") == 1
    inbox = api(flow.validator2).get("/api/v1/notifications/").json()["results"]
    assert any("handed you" in n["title"] for n in inbox), inbox
    decide = {"kind": "approve", "evidence_digest": review["evidence_digest"]}
    refused = _error(
        _post(api(flow.validator), f"/api/v1/reviews/{review['id']}/decisions/", decide), 403, "permission_denied"
    )
    assert refused["message"] == "You delegated your decision on this review to someone else."
    assert _post(api(flow.validator2), f"/api/v1/reviews/{review['id']}/decisions/", decide).status_code == 201


def test_the_developer_cannot_delegate_a_review_of_their_own_version(flow: Flow, api) -> None:
    review = _submitted(api, flow)
    url = f"/api/v1/reviews/{review['id']}/delegate/"
    error = _error(_post(api(flow.developer), url, {"username": flow.validator2.username}), 403, "permission_denied")
    assert error["message"] == "You created this version."
    assert not Delegation.objects.exists()


@pytest.mark.parametrize(
    ("to", "field", "says"),
    [
        ("nobody-of-that-name", "username", "No active person with this username."),
        ("devon", "to_user", "devon cannot sign this stage: You created this version."),
        ("vera", "to_user", "Delegate to someone else."),
        ("", "username", "This field may not be blank."),
    ],
)
def test_a_delegation_to_someone_who_may_not_sign_is_refused(flow: Flow, api, to: str, field: str, says: str) -> None:
    review = _submitted(api, flow)
    response = _post(api(flow.validator), f"/api/v1/reviews/{review['id']}/delegate/", {"username": to})
    error = _error(response, 400, "invalid")
    assert error["details"][field] == [says]
    assert not Delegation.objects.exists()
    assert _events("workflows.review.delegated") == 0


# Findings --------------------------------------------------------------------------------------------


def _raise(api, flow: Flow, who: User | None = None, **fields: Any):
    body = {
        "model": flow.model.pk,
        "version": flow.version.pk,
        "kind": "validation_issue",
        "severity": "medium",
        "title": "Calibration drifts on the last quarter",
        "description": "Brier score worse than the reference.",
        "owner": flow.developer.username,
        "due_date": "2031-01-31",
        **fields,
    }
    return _post(api(who or flow.validator), "/api/v1/findings/", body)


def test_a_validator_raises_a_finding_that_its_owner_then_finds(flow: Flow, api) -> None:
    response = _raise(api, flow)
    assert response.status_code == 201, response.content
    raised = response.json()
    assert raised["status"] == "open"
    assert (raised["model"], raised["version"]) == (flow.model.name, flow.version.pk)
    assert (raised["owner"], raised["raised_by"]) == (flow.developer.username, flow.validator.username)
    assert (raised["severity"], raised["kind"], raised["due_date"]) == ("medium", "validation_issue", "2031-01-31")
    mine = api(flow.developer).get("/api/v1/findings/?owner=me&status=open")
    assert mine.status_code == 200
    assert [f["id"] for f in mine.json()["results"]] == [raised["id"]]
    assert api(flow.validator).get("/api/v1/findings/?owner=me").json()["results"] == []
    detail = api(flow.auditor).get(f"/api/v1/findings/{raised['id']}/")
    assert detail.status_code == 200
    assert detail.json() == raised
    assert _events("workflows.finding.raised") == 1


def test_a_developer_cannot_raise_a_finding(flow: Flow, api) -> None:
    error = _error(_raise(api, flow, flow.developer), 403, "permission_denied")
    assert error["message"] == "Validators, compliance and owners raise findings."
    assert not Finding.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"owner": "nobody-of-that-name"}, "owner", "No active person with this username."),
        ({"owner": "otto"}, "owner", "The owner must be part of the project."),
        ({"version": 999999}, "version", "No version of this model has this id."),
        ({"model": 999999}, "model", "No model with this id that you can see."),
        ({"severity": "dire"}, "severity", '"dire" is not a valid choice.'),
        ({"title": ""}, "title", "This field may not be blank."),
    ],
)
def test_a_finding_with_bad_fields_is_refused(flow: Flow, api, fields: dict[str, Any], field: str, says: str) -> None:
    error = _error(_raise(api, flow, **fields), 400, "invalid")
    assert error["details"][field] == [says]
    assert not Finding.objects.exists()


def test_the_owner_remediates_and_a_validator_closes_the_finding(flow: Flow, api) -> None:
    raised = _raise(api, flow).json()
    url = f"/api/v1/findings/{raised['id']}/"
    remediated = api(flow.developer).patch(
        url, {"status": "remediated", "remediation": "Recalibrated with isotonic regression."}, "application/json"
    )
    assert remediated.status_code == 200, remediated.content
    assert (remediated.json()["status"], remediated.json()["remediation"]) == (
        "remediated",
        "Recalibrated with isotonic regression.",
    )
    closed = api(flow.validator2).patch(
        url, {"status": "closed", "reason": "Checked the new curve."}, "application/json"
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed"
    assert _events("workflows.finding.updated") == 2


def test_the_owner_cannot_close_their_own_finding(flow: Flow, api) -> None:
    raised = _raise(api, flow).json()
    response = api(flow.developer).patch(f"/api/v1/findings/{raised['id']}/", {"status": "closed"}, "application/json")
    error = _error(response, 403, "permission_denied")
    assert error["message"] == "Validators and compliance close findings."
    assert Finding.objects.get().status == "open"


def test_a_finding_that_is_no_policy_exception_cannot_be_accepted(flow: Flow, api) -> None:
    raised = _raise(api, flow).json()
    response = api(flow.compliance).patch(
        f"/api/v1/findings/{raised['id']}/", {"status": "accepted", "reason": "Fine."}, "application/json"
    )
    error = _error(response, 400, "invalid")
    assert error["details"]["status"] == [
        "Only a policy exception can be accepted; remediate and close other findings."
    ]
    assert Finding.objects.get().status == "open"
    assert _events("workflows.finding.updated") == 0


def test_findings_are_not_found_outside_the_project(flow: Flow, api) -> None:
    raised = _raise(api, flow).json()
    _error(api(flow.outsider).get(f"/api/v1/findings/{raised['id']}/"), 404, "not_found")
    response = api(flow.outsider).patch(f"/api/v1/findings/{raised['id']}/", {"status": "closed"}, "application/json")
    _error(response, 404, "not_found")
    assert api(flow.outsider).get("/api/v1/findings/").json()["results"] == []


# Deployments -----------------------------------------------------------------------------------------


def test_it_operations_record_the_deployment_of_an_approved_version(flow: Flow, api) -> None:
    _approved(api, flow)
    response = _post(
        api(flow.it_ops),
        "/api/v1/deployments/",
        {"version": flow.version.pk, "environment": "production", "notes": "Blue"},
    )
    assert response.status_code == 201, response.content
    deployed = response.json()
    assert (deployed["model"], deployed["version"], deployed["version_number"]) == (
        flow.model.name,
        flow.version.pk,
        flow.version.number,
    )
    assert (deployed["environment"], deployed["deployed_by"], deployed["notes"]) == (
        "production",
        flow.it_ops.username,
        "Blue",
    )
    assert _version_status(api, flow) == "deployed"
    listed = api(flow.owner).get("/api/v1/deployments/")
    assert listed.status_code == 200
    assert [d["id"] for d in listed.json()["results"]] == [deployed["id"]]
    assert api(flow.outsider).get("/api/v1/deployments/").json()["results"] == []


def test_only_it_operations_record_deployments_through_the_api(flow: Flow, api) -> None:
    _approved(api, flow)
    response = _post(api(flow.developer), "/api/v1/deployments/", {"version": flow.version.pk, "environment": "prod"})
    error = _error(response, 403, "permission_denied")
    assert error["message"] == "Only the project's IT operations record deployments."
    assert _version_status(api, flow) == "approved"
    assert not Deployment.objects.exists()


def test_a_version_that_is_not_approved_is_not_deployed(flow: Flow, api) -> None:
    response = _post(api(flow.it_ops), "/api/v1/deployments/", {"version": flow.version.pk, "environment": "prod"})
    error = _error(response, 400, "invalid")
    assert error["details"]["version"] == [f"{flow.model.name} v{flow.version.number} is draft, not approved."]
    assert _version_status(api, flow) == "draft"
    assert not Deployment.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"environment": "prod env!"}, "environment"),
        ({"version": 999999}, "version"),
        ({"environment": ""}, "environment"),
    ],
)
def test_a_deployment_with_bad_fields_is_refused(flow: Flow, api, body: dict[str, Any], field: str) -> None:
    _approved(api, flow)
    response = _post(api(flow.it_ops), "/api/v1/deployments/", {"version": flow.version.pk, "environment": "p", **body})
    error = _error(response, 400, "invalid")
    assert field in error["details"]
    assert _version_status(api, flow) == "approved"
    assert not Deployment.objects.exists()
