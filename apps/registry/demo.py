"""Demo projects, models, model cards and datasets (seed_demo), created through the services."""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone

from apps.accounts.models import User
from apps.projects import services as projects
from apps.projects.models import Project
from apps.registry import services as registry
from apps.registry.choices import CARD_SECTION_NAMES

HIGH_RISK_ANSWERS = {
    "impact_on_people": "legal_effect",
    "automation": "human_reviews",
    "regulatory_scope": "high_risk_listed",
    "data_sensitivity": "personal",
    "scale": "medium",
    "reversibility": "effort",
}
MEDIUM_RISK_ANSWERS = {
    "impact_on_people": "indirect",
    "automation": "human_reviews",
    "regulatory_scope": "sector",
    "data_sensitivity": "internal",
    "scale": "medium",
    "reversibility": "easy",
}
LOW_RISK_ANSWERS = {
    "impact_on_people": "none",
    "automation": "human_decides",
    "regulatory_scope": "none",
    "data_sensitivity": "public",
    "scale": "small",
    "reversibility": "easy",
}

CARD_TEXT = {
    "intended_use": "Scores applications for a revolving credit line; an underwriter takes every decision.",
    "out_of_scope_use": "Not for mortgages, business lending, collections, or any automated refusal.",
    "training_data": "Loan applications 2019-2024 from the core banking system, with 12-month default outcome.",
    "evaluation": "Out-of-time test on 2024 applications: ROC AUC 0.81, Brier score 0.071, stable across regions.",
    "limitations": "Thin-file applicants (under 6 months of history) are scored with less confidence.",
    "ethical_considerations": "Age and gender are excluded; fairness is checked by age band and region each quarter.",
    "monitoring_plan": "Monthly drift report on the top 10 features; quarterly back-test of default rates.",
    "human_oversight": "Underwriters see the top reasons and can override; overrides are reviewed monthly.",
}


def _user(name: str) -> User:
    return User.objects.get(username=name)


def _loan_csv(rows: int, seed: int) -> Path:
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="")  # noqa: SIM115 - closed below
    with handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["application_id", "age_band", "region", "income", "utilisation", "months_on_book", "defaulted"]
        )
        for i in range(rows):
            utilisation = round(rng.random(), 3)
            writer.writerow(
                [
                    f"A{seed}{i:05d}",
                    rng.choice(["18-29", "30-44", "45-64", "65+"]),
                    rng.choice(["north", "south", "east", "west"]),
                    rng.randint(12_000, 140_000),
                    utilisation,
                    rng.randint(0, 240),
                    int(rng.random() < 0.05 + 0.1 * utilisation),
                ]
            )
    return Path(handle.name)


def _project(
    *, slug: str, name: str, objective: str, users: str, out_of_scope: str, answers: dict[str, str] | None, status: str
) -> tuple[Project, bool]:
    existing = Project.objects.filter(slug=slug).first()
    if existing is not None:
        return existing, False
    business = _user("business")
    project = projects.project_create(
        actor=business,
        name=name,
        slug=slug,
        business_objective=objective,
        intended_users=users,
        out_of_scope=out_of_scope,
    )
    projects.membership_add(actor=business, project=project, user=_user("developer"), role="developer")
    projects.membership_add(actor=business, project=project, user=_user("validator"), role="validator")
    projects.membership_add(actor=business, project=project, user=_user("itops"), role="it_ops")
    projects.membership_add(actor=business, project=project, user=_user("compliance"), role="compliance")
    if answers:
        projects.qualification_submit(actor=business, project=project, answers=answers)
    if status != "proposed":
        projects.project_update(actor=business, project=project, status=status)
    return project, True


def _card(actor: User, version: Any, fraction: float) -> None:
    count = round(len(CARD_SECTION_NAMES) * fraction)
    sections = {name: CARD_TEXT[name] for name in CARD_SECTION_NAMES[:count]}
    if sections:
        registry.card_update(actor=actor, card=version.card, sections=sections)


def seed() -> int:
    """Create the demo projects and their registry content; return how many projects were created."""
    created = 0
    developer = _user("developer")
    business = _user("business")

    credit, new = _project(
        slug="credit-line-scoring",
        name="Credit line scoring",
        objective="Decide on revolving credit line applications faster, with default rates at or below target.",
        users="Retail underwriters in the branch network.",
        out_of_scope="Mortgages, business lending, collections.",
        answers=HIGH_RISK_ANSWERS,
        status="active",
    )
    if new:
        created += 1
        default_rate = projects.kpi_create(
            actor=business,
            project=credit,
            name="Default rate of approved lines",
            target=Decimal("2.5"),
            unit="%",
            direction="lower",
        )
        now = timezone.now()
        for weeks, value in ((3, "3.1"), (2, "2.9"), (1, "2.7")):  # measured weekly: the chart has a time axis
            projects.kpi_record_value(
                actor=business, kpi=default_rate, value=Decimal(value), measured_at=now - timedelta(weeks=weeks)
            )
        projects.kpi_create(
            actor=business, project=credit, name="Time to decision", target=Decimal("1"), unit="days", direction="lower"
        )
        projects.data_need_create(
            actor=developer,
            project=credit,
            description="Bureau scores",
            provider="Credit bureau",
            access_status="granted",
        )
        projects.data_need_create(
            actor=developer,
            project=credit,
            description="Transaction history, 24 months",
            provider="Core banking",
            access_status="requested",
        )
        dataset = registry.dataset_create(
            actor=developer,
            project=credit,
            name="Loan applications 2019-2024",
            description="One row per application with its 12-month default outcome.",
            source="Core banking",
            sensitivity="confidential",
            contains_personal_data=True,
        )
        path = _loan_csv(800, 7)
        try:
            data_v1 = registry.dataset_version_upload(
                actor=developer, dataset=dataset, path=path, original_name="loans.csv"
            )
        finally:
            path.unlink(missing_ok=True)
        model = registry.model_create(
            actor=developer,
            project=credit,
            name="credit-default-pd",
            task="binary_classification",
            description="Probability of default within 12 months for credit line applications.",
            tags=["credit", "retail"],
        )
        v1 = registry.version_create(
            actor=developer,
            model=model,
            artifact_uri="s3://models/credit-default-pd/1/model.onnx",
            artifact_sha256="3f" * 32,
            framework="XGBoost 3.0 (ONNX)",
            training_dataset=data_v1,
            source_run_id="mlflow:5a1c0e",
            metrics={"roc_auc": 0.81, "brier": 0.071},
        )
        _card(developer, v1, 1.0)
        v2 = registry.version_create(
            actor=developer,
            model=model,
            artifact_uri="s3://models/credit-default-pd/2/model.onnx",
            artifact_sha256="4e" * 32,
            framework="XGBoost 3.0 (ONNX)",
            training_dataset=data_v1,
            parent=v1,
            metrics={"roc_auc": 0.83, "brier": 0.068},
            description="Adds utilisation trend features.",
        )
        _card(developer, v2, 0.5)
        projects.comment_add(
            actor=business, project=credit, body="Can we have v2 in front of validation before the quarter ends?"
        )
        projects.comment_add(
            actor=developer, project=credit, body="Yes: the card is half written, evaluation results come this week."
        )

    claims, new = _project(
        slug="claims-triage",
        name="Claims triage",
        objective="Route incoming insurance claims to the right handling team on the first day.",
        users="Claims handlers and team leads.",
        out_of_scope="Deciding whether a claim is paid.",
        answers=MEDIUM_RISK_ANSWERS,
        status="active",
    )
    if new:
        created += 1
        model = registry.model_create(
            actor=developer,
            project=claims,
            name="claims-router",
            task="multiclass",
            description="Which team handles a claim.",
            tags=["insurance"],
        )
        version = registry.version_create(
            actor=developer, model=model, framework="scikit-learn 1.7", metrics={"macro_f1": 0.74}
        )
        _card(developer, version, 0.75)

    footfall, new = _project(
        slug="branch-footfall",
        name="Branch footfall forecast",
        objective="Staff branches to match expected visitors each day.",
        users="Branch managers.",
        out_of_scope="Any decision about individual customers or staff.",
        answers=LOW_RISK_ANSWERS,
        status="in_production",
    )
    if new:
        created += 1
        model = registry.model_create(
            actor=developer,
            project=footfall,
            name="footfall-forecast",
            task="regression",
            description="Daily visitors per branch.",
            tags=["operations"],
        )
        for rmse in (41.2, 37.9):
            version = registry.version_create(
                actor=developer, model=model, framework="LightGBM 4.6", metrics={"rmse": rmse}
            )
            _card(developer, version, 1.0)

    _faq, new = _project(
        slug="faq-assistant",
        name="FAQ assistant",
        objective="Answer customers' frequently asked questions on the website.",
        users="Website visitors.",
        out_of_scope="Advice on products; anything about a customer's own account.",
        answers=None,
        status="proposed",
    )
    created += int(new)
    return created
