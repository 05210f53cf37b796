"""The portfolio's page and endpoint run a pinned number of queries, the same for 1 and for 10 accounts."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts import services as accounts
from tests.conftest import bearer
from tests.factories import TeamFunction, make_user, team_for

pytestmark = pytest.mark.django_db

# Queries of one request, once the session is warm: the page lays out the navigation too. One of them
# counts the models governed through MLflow (none here; tests/integrations/test_pages_aliases.py pins
# the portfolio with MLflow models and their aliases).
# One more counts the monitored versions, those breaching and those not fed in time (tests/portfolio/
# test_monitoring.py pins that it stays one with 4N projects).
PINNED = {"/portfolio/": 9, "/api/v1/portfolio/": 9}  # 8 and 8 before the monitoring tile


@pytest.mark.parametrize("rows", [1, 10])
@pytest.mark.parametrize("url", PINNED)
def test_the_portfolio_runs_a_pinned_number_of_queries(
    url: str, rows: int, token_for, django_assert_num_queries
) -> None:
    admin = make_user("ada", superuser=True)
    compliance = make_user("cora", TeamFunction.COMPLIANCE)
    for i in range(rows):  # set up by an administrator: each awaits its owner's own password
        accounts.user_create(actor=admin, username=f"new-{i}", password=None, teams=[team_for(TeamFunction.BUSINESS)])
    client = Client(headers=bearer(token_for(compliance)))
    client.force_login(compliance)
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with django_assert_num_queries(PINNED[url]):
        response = client.get(url)
    assert response.status_code == 200
    assert f"new-{rows - 1}".encode() in response.content, "every account is listed"
