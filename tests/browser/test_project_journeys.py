"""Projects and the registry, in Chromium: propose and qualify, build a model with its card, keep outsiders out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from apps.audit.models import AuditEvent
from apps.projects import services as projects
from apps.projects.models import Project
from apps.registry import services as registry
from apps.registry.models import ModelCard
from tests.browser.people import LOW_RISK_ANSWERS, sign_in
from tests.factories import TeamFunction, make_user

ESCALATING_ANSWER = "It decides on credit, employment, insurance, health or similar matters"
NOT_FOUND = "We could not find that page"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_business_proposes_a_project_answers_the_questionnaire_and_sees_the_tier(
    live_server: LiveServer, page: Page
) -> None:
    make_user("beatrice", TeamFunction.BUSINESS)
    base = live_server.url

    sign_in(page, base, "beatrice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    page.wait_for_url(re.compile(r"/projects/$"))
    page.get_by_role("link", name="Propose a project").click()
    page.wait_for_url(re.compile(r"/projects/new/$"))
    page.get_by_label("Name", exact=True).fill("Credit line scoring")
    page.get_by_label("Business objective", exact=True).fill("Decide faster on credit lines for small businesses.")
    page.get_by_role("button", name="Propose", exact=True).click()

    page.wait_for_url(re.compile(r"/projects/credit-line-scoring/risk/$"))
    expect(page.get_by_role("heading", name="Risk questionnaire")).to_be_visible()
    project = Project.objects.get(name="Credit line scoring")
    assert project.risk_tier == ""

    # Five answers of six: the questionnaire refuses and the tier stays unset.
    page.get_by_label(ESCALATING_ANSWER, exact=True).check()
    page.get_by_label("A person decides; the model only advises", exact=True).check()
    page.get_by_label("No specific regulation", exact=True).check()
    page.get_by_label("Personal data", exact=True).check()
    page.get_by_label("Fewer than 1,000", exact=True).check()
    page.get_by_role("button", name="Work out the risk tier").click()
    expect(page.get_by_text("Please answer this question.", exact=True)).to_be_visible()
    assert page.get_by_text("Please answer this question.", exact=True).count() == 1
    assert re.search(r"/projects/credit-line-scoring/risk/$", page.url)
    project.refresh_from_db()
    assert project.risk_tier == ""
    assert not AuditEvent.objects.filter(action="projects.project.tier_changed").exists()

    # The answers given survive the refusal; the last one completes the questionnaire.
    expect(page.get_by_label(ESCALATING_ANSWER, exact=True)).to_be_checked()
    page.get_by_label("Yes, easily and quickly", exact=True).check()
    page.get_by_role("button", name="Work out the risk tier").click()

    page.wait_for_url(re.compile(r"/projects/credit-line-scoring/$"))
    expect(page.locator(".meta .badge.tier")).to_have_text("High risk")
    risk = page.locator("#risk-tier")
    expect(risk.locator("strong")).to_have_text("High")
    expect(risk).to_contain_text(f"High risk because of Impact on people: {ESCALATING_ANSWER}.")

    project.refresh_from_db()
    assert project.risk_tier == "high"
    assert ESCALATING_ANSWER in project.risk_rationale
    changed = AuditEvent.objects.filter(action="projects.project.tier_changed", project_pk=project.pk)
    assert changed.count() == 1
    assert changed.get().actor_name == "beatrice"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_developer_added_by_the_owner_registers_a_model_and_version_and_fills_the_card(
    live_server: LiveServer, page: Page
) -> None:
    owner = make_user("olga", TeamFunction.BUSINESS)
    make_user("devi", TeamFunction.DATA_SCIENCE)
    project = projects.project_create(
        actor=owner, name="Churn prediction", business_objective="Call customers before they leave."
    )
    projects.qualification_submit(actor=owner, project=project, answers=LOW_RISK_ANSWERS)
    project.refresh_from_db()
    assert project.risk_tier == "low"
    base = live_server.url

    # The owner adds the developer to the team.
    sign_in(page, base, "olga")
    page.goto(f"{base}/projects/{project.slug}/")
    page.get_by_role("link", name="Team", exact=True).click()
    page.wait_for_url(re.compile(rf"/projects/{project.slug}/team/$"))
    page.get_by_label("Username", exact=True).fill("devi")
    page.get_by_label("Role", exact=True).select_option(label="Developer")
    page.get_by_role("button", name="Add to the team").click()
    page.wait_for_url(re.compile(rf"/projects/{project.slug}/team/$"))
    expect(page.get_by_text("devi joined the project.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="(devi)")).to_contain_text("Developer")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/sign-in/"))

    # The developer registers a model, its first version, and writes the card.
    sign_in(page, base, "devi")
    page.goto(f"{base}/projects/{project.slug}/")
    page.get_by_role("link", name="Register a model").click()
    page.wait_for_url(re.compile(rf"/registry/projects/{project.slug}/models/new/$"))
    page.get_by_label("Name", exact=True).fill("churn-model")
    page.get_by_label("Task", exact=True).select_option(label="Binary classification")
    page.get_by_label("Description", exact=True).fill("Scores each customer's chance of leaving next month.")
    page.get_by_role("button", name="Register", exact=True).click()

    page.wait_for_url(re.compile(r"/registry/models/\d+/$"))
    expect(page.get_by_role("heading", name="churn-model")).to_be_visible()
    page.get_by_role("link", name="Register a version").click()
    page.wait_for_url(re.compile(r"/registry/models/\d+/versions/new/$"))
    page.get_by_label("Framework", exact=True).fill("scikit-learn 1.7")
    page.get_by_role("button", name="Register version").click()

    page.wait_for_url(re.compile(r"/registry/versions/\d+/card/$"))
    expect(page.get_by_role("heading", name="Model card of churn-model v1")).to_be_visible()
    page.get_by_label("Intended use (required for this tier)", exact=True).fill(
        "Retention agents use it to choose whom to call first."
    )
    page.get_by_label("Evaluation data and results (required for this tier)", exact=True).fill(
        "ROC AUC of 0.81 on the last quarter of 2024, held out."
    )
    page.get_by_label("Limitations (required for this tier)", exact=True).fill(
        "Weak for customers who joined less than three months ago."
    )
    page.get_by_role("button", name="Save the model card").click()

    page.wait_for_url(re.compile(r"/registry/versions/\d+/$"))
    expect(page.locator("#card-completeness").get_by_text("100% complete", exact=True)).to_be_visible()
    expect(page.locator("#card-completeness")).to_contain_text("every required section is written")

    card = ModelCard.objects.get(version__model__name="churn-model", version__number=1)
    assert card.revision == 1
    assert card.updated_by is not None
    assert card.updated_by.username == "devi"
    updated = AuditEvent.objects.filter(action="registry.model_card.updated", project_pk=project.pk)
    assert updated.count() == 1
    assert updated.get().actor_name == "devi"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_outsider_cannot_reach_any_of_it(live_server: LiveServer, page: Page) -> None:
    owner = make_user("olga", TeamFunction.BUSINESS)
    make_user("oscar")
    project = projects.project_create(
        actor=owner, name="Secret scoring", business_objective="Something only the team may know about."
    )
    model = registry.model_create(actor=owner, project=project, name="secret-model", task="regression")
    version = registry.version_create(actor=owner, model=model)
    base = live_server.url

    sign_in(page, base, "oscar")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    page.wait_for_url(re.compile(r"/projects/$"))
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible()
    expect(page.get_by_text("Secret scoring")).to_have_count(0)
    expect(page.get_by_role("link", name="Propose a project")).to_have_count(0)
    expect(page.get_by_role("button", name="Propose a project")).to_have_count(0)

    for path in (
        f"/projects/{project.slug}/",
        f"/projects/{project.slug}/team/",
        f"/projects/{project.slug}/risk/",
        f"/registry/models/{model.pk}/",
        f"/registry/versions/{version.pk}/",
        f"/registry/versions/{version.pk}/card/",
    ):
        response = page.goto(f"{base}{path}")
        assert response is not None
        assert response.status == 404, path
        expect(page.get_by_role("heading", name=NOT_FOUND)).to_be_visible()
        expect(page.get_by_text("Secret scoring")).to_have_count(0)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalogue").click()
    page.wait_for_url(re.compile(r"/registry/catalogue/$"))
    page.get_by_label("Words", exact=True).fill("secret")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/registry/catalogue/\?q=secret"))
    expect(page.get_by_text("Nothing found")).to_be_visible()
    expect(page.get_by_text("secret-model")).to_have_count(0)
    expect(page.get_by_text("Secret scoring")).to_have_count(0)
