"""A policy names the environments its approvals cover, on the page, in the API and in the service."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from apps.audit.models import AuditEvent
from apps.workflows import services
from tests.conftest import Org, bearer, signed_in
from tests.workflows.test_policy_pages import form_data

pytestmark = pytest.mark.django_db


def test_the_page_publishes_environments_and_shows_them(org: Org) -> None:
    client = signed_in(org.compliance)
    policy = services.policy_in_force("low")
    response = client.post("/workflows/policies/low/edit/", form_data(policy, environments="staging, production"))
    assert response.status_code == 302, response.content.decode()[:2000]
    new = services.policy_in_force("low")
    assert new.environments == ["staging", "production"]
    event = AuditEvent.objects.get(action="workflows.policy.published")
    assert event.changes["environments"] == {"before": [], "after": ["staging", "production"]}
    assert 'value="staging, production"' in client.get("/workflows/policies/low/edit/").content.decode()
    assert "An approval covers staging, production only." in client.get("/workflows/policies/").content.decode()


def test_the_api_publishes_environments_and_keeps_them_when_omitted(org: Org, token_for) -> None:
    api = Client(headers=bearer(token_for(org.compliance)))
    policy = services.policy_in_force("low")
    body = {"tier": "low", "stages": policy.stages, "review_period_days": 400, "environments": ["production"]}
    response = api.post("/api/v1/policies/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["environments"] == ["production"]
    del body["environments"]
    assert api.post("/api/v1/policies/", body, content_type="application/json").json()["environments"] == ["production"]


TOO_MANY = [f"env-{i}" for i in range(21)]


@pytest.mark.parametrize(
    ("environments", "message"),
    [
        (["Production"], "'Production' is not an environment slug"),
        (["pro duction"], "is not an environment slug"),
        (["-staging"], "starting and ending with a letter or digit"),
        (["x" * 41], "up to 40 lowercase letters"),
        ([3], "'3' is not an environment slug"),
        (["staging", "staging"], "'staging' is named twice"),
        (TOO_MANY, "at most 20 environments"),
        ("staging", "as a list of slugs"),
    ],
)
def test_a_bad_list_of_environments_is_refused_with_a_reason_and_nothing_changes(
    org: Org, token_for, environments: Any, message: str
) -> None:
    policy = services.policy_in_force("low")
    with pytest.raises(ValidationError, match=message):
        services.policy_publish(
            actor=org.compliance, tier="low", stages=policy.stages,
            review_period_days=policy.review_period_days, environments=environments,
        )  # fmt: skip
    body = {"tier": "low", "stages": policy.stages, "review_period_days": 400, "environments": environments}
    api = Client(headers=bearer(token_for(org.compliance)))
    response = api.post("/api/v1/policies/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "environments" in response.json()["error"]["details"]
    if isinstance(environments, list) and all(isinstance(e, str) for e in environments):
        page = signed_in(org.compliance).post(
            "/workflows/policies/low/edit/", form_data(policy, environments=", ".join(environments))
        )
        assert page.status_code == 400
        assert message in page.content.decode().replace("&#x27;", "'")
    assert services.policy_in_force("low").pk == policy.pk
    assert not AuditEvent.objects.filter(action="workflows.policy.published").exists()
