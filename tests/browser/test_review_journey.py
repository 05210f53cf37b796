"""A version's whole review, in Chromium: submit, a blocking finding, remediate, approve, deploy, audit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from apps.audit.chain import verify
from apps.audit.selectors import audit_chain
from apps.projects import services as projects
from apps.registry import services as registry
from apps.registry.models import ModelVersion
from tests.browser.people import LOW_RISK_ANSWERS, sign_in, sign_out
from tests.factories import TeamFunction, make_user
from tests.workflows.conftest import FULL_CARD

FINDING_TITLE = "Recall collapses for customers under 25"
WORKFLOW_ACTIONS = (
    "workflows.review.opened",
    "workflows.finding.raised",
    "workflows.finding.updated",
    "workflows.decision.recorded",
    "workflows.review.closed",
    "workflows.deployment.recorded",
)


def decide(page: Page, kind: str) -> None:
    page.get_by_label(kind, exact=True).check()
    page.get_by_role("button", name="Record my decision").click()


def set_up_a_version_ready_for_review() -> ModelVersion:
    """A low-tier project with its team, and a version whose card is complete (through the services)."""
    owner = make_user("olga", TeamFunction.BUSINESS)
    developer = make_user("devi", TeamFunction.DATA_SCIENCE)
    validator = make_user("vera", TeamFunction.RISK_VALIDATION)
    ops = make_user("otto", TeamFunction.IT_OPS)
    make_user("aude", TeamFunction.AUDIT)
    project = projects.project_create(
        actor=owner, name="Churn prediction", business_objective="Call customers before they leave."
    )
    projects.qualification_submit(actor=owner, project=project, answers=LOW_RISK_ANSWERS)
    project.refresh_from_db()
    assert project.risk_tier == "low"
    for user, role in ((developer, "developer"), (validator, "validator"), (ops, "it_ops")):
        projects.membership_add(actor=owner, project=project, user=user, role=role)
    model = registry.model_create(actor=developer, project=project, name="churn-model", task="binary_classification")
    version = registry.version_create(actor=developer, model=model)
    registry.card_update(actor=developer, card=version.card, sections=FULL_CARD)
    return version


def developer_submits(page: Page, base: str, version_url: str) -> str:
    """The developer submits the version and lands on its review; returns the review's address."""
    sign_in(page, base, "devi")
    page.goto(version_url)
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_url(re.compile(r"/workflows/reviews/\d+/$"))
    expect(page.get_by_role("heading", name="Review 1 of churn-model v1")).to_be_visible()
    expect(page.get_by_text("Submitted for review (cycle 1).")).to_be_visible()
    review_url = page.url
    sign_out(page)
    return review_url


def validator_raises_a_finding_and_cannot_approve(page: Page, base: str, review_url: str) -> None:
    sign_in(page, base, "vera")
    page.locator("#waiting-reviews").get_by_role("link", name="churn-model v1").click()
    page.wait_for_url(review_url)
    page.get_by_text("Raise a finding", exact=True).click()
    page.get_by_label("Title", exact=True).fill(FINDING_TITLE)
    page.get_by_label("Kind", exact=True).select_option(label="Validation issue")
    page.get_by_label("Severity", exact=True).select_option(label="High")
    page.get_by_label("Owner", exact=True).fill("devi")
    page.get_by_role("button", name="Raise", exact=True).click()
    page.wait_for_url(review_url)
    expect(page.get_by_text("Finding raised; its owner sees it in their inbox.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=FINDING_TITLE)).to_contain_text("Open")

    decide(page, "Approve")
    expect(page.get_by_role("alert").filter(has_text="Open high or critical findings block approval")).to_be_visible()
    expect(page.locator(".page-head .badge.status-open")).to_be_visible()
    sign_out(page)


def developer_remediates_the_finding(page: Page, base: str, version_url: str) -> None:
    sign_in(page, base, "devi")
    owned = page.locator("section", has=page.get_by_role("heading", name="Findings you own"))
    expect(owned.get_by_role("link", name=FINDING_TITLE)).to_be_visible()
    # The finding also reached her notifications; opening it marks it read and leads to the finding.
    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(r"^Notifications")).click()
    page.get_by_role("button", name=re.compile(f"High finding on churn-model: {FINDING_TITLE}")).click()
    page.wait_for_url(re.compile(re.escape(version_url) + r"#finding-\d+$"))
    row = page.get_by_role("row").filter(has_text=FINDING_TITLE)
    row.get_by_label("New status").select_option(label="Remediated")
    row.get_by_label("Remediation or reason").fill("Retrained with young customers oversampled.")
    row.get_by_role("button", name="Update").click()
    page.wait_for_url(version_url)
    expect(page.get_by_text("Finding updated.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=FINDING_TITLE)).to_contain_text("Remediated")
    sign_out(page)


def validator_approves(page: Page, base: str, review_url: str) -> None:
    sign_in(page, base, "vera")
    page.goto(review_url)
    # A remediation still blocks until someone independent checks it: the validator closes it first.
    row = page.get_by_role("row").filter(has_text=FINDING_TITLE)
    row.get_by_label("New status").select_option(label="Closed")
    row.get_by_role("button", name="Update").click()
    page.wait_for_url(review_url)
    expect(page.get_by_role("row").filter(has_text=FINDING_TITLE)).to_contain_text("Closed")
    decide(page, "Approve")
    page.wait_for_url(review_url)
    expect(page.get_by_text("Your decision is recorded.")).to_be_visible()
    expect(page.locator(".page-head .badge.status-approved")).to_have_text("Approved")
    sign_out(page)


def it_ops_deploys(page: Page, base: str, version_url: str) -> None:
    sign_in(page, base, "otto")
    page.goto(version_url)
    expect(page.locator("#gate")).to_contain_text("Deployment gate: allowed.")
    page.get_by_role("button", name="Record deployment").click()
    page.wait_for_url(version_url)
    expect(page.get_by_text("Deployment to production recorded.")).to_be_visible()
    sign_out(page)


def auditor_reads_the_workflow_trail(page: Page, base: str) -> set[str]:
    """The auditor filters the trail on ``workflows.``; returns the actions the table shows."""
    sign_in(page, base, "aude")
    page.goto(f"{base}/audit/")
    page.get_by_label("Action", exact=True).fill("workflows.")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"[?&]action=workflows\.(&|$)"))
    return set(page.locator(".audit-table tbody td code").all_inner_texts())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_version_goes_from_submission_to_deployment_with_the_whole_story_audited(
    live_server: LiveServer, page: Page
) -> None:
    version = set_up_a_version_ready_for_review()
    base = live_server.url
    version_url = f"{base}/registry/versions/{version.pk}/"

    review_url = developer_submits(page, base, version_url)
    validator_raises_a_finding_and_cannot_approve(page, base, review_url)
    assert ModelVersion.objects.get(pk=version.pk).status == "in_review"
    developer_remediates_the_finding(page, base, version_url)
    validator_approves(page, base, review_url)
    assert ModelVersion.objects.get(pk=version.pk).status == "approved"
    it_ops_deploys(page, base, version_url)

    shown = auditor_reads_the_workflow_trail(page, base)
    for action in WORKFLOW_ACTIONS:
        assert action in shown, action
    assert all(action.startswith("workflows.") for action in shown), shown

    assert ModelVersion.objects.get(pk=version.pk).status == "deployed"
    assert verify(audit_chain()).ok
