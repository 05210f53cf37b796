"""A request reads each person's teams once, and afresh after anything changes them (apps/core/context.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts import services as accounts
from apps.accounts.models import Team
from apps.audit.services import actor_roles
from apps.core import context
from apps.core.choices import AuthMethod
from apps.core.permissions import reads_everything, team_functions, user_teams
from tests.conftest import bearer
from tests.factories import TeamFunction, make_user, team_for

pytestmark = pytest.mark.django_db


def _team_queries(block: CaptureQueriesContext) -> int:
    return sum('"accounts_user_teams"' in query["sql"] for query in block.captured_queries)


def _bind() -> None:
    context.bind_request(request_id="r1", ip="127.0.0.1", auth_method=AuthMethod.SESSION)


def test_outside_a_request_every_check_reads_the_teams() -> None:
    user = make_user("tess", TeamFunction.AUDIT)
    with CaptureQueriesContext(connection) as block:
        assert reads_everything(user)
        assert reads_everything(user)
        assert team_functions(user) == {TeamFunction.AUDIT}
    assert _team_queries(block) == 3


def test_a_request_reads_them_once_for_every_check() -> None:
    user = make_user("tess", TeamFunction.AUDIT, TeamFunction.COMPLIANCE)
    _bind()
    with CaptureQueriesContext(connection) as block:
        assert reads_everything(user)
        assert team_functions(user) == {TeamFunction.AUDIT, TeamFunction.COMPLIANCE}
        assert actor_roles(user) == ["team:team-audit", "team:team-compliance"]
    assert _team_queries(block) == 1
    context.end_request()
    with CaptureQueriesContext(connection) as block:
        assert reads_everything(user)
    assert _team_queries(block) == 1, "the next request (or no request) reads them again"


def test_a_change_of_teams_in_the_request_is_seen_by_the_next_check() -> None:
    admin = make_user("root", superuser=True)
    user = make_user("tess", TeamFunction.DATA_SCIENCE)
    _bind()
    assert not reads_everything(user)
    accounts.user_update(actor=admin, user=user, teams=[team_for(TeamFunction.AUDIT)])
    assert reads_everything(user)
    assert user_teams(user) == (("team-audit", TeamFunction.AUDIT),)
    user.teams.clear()
    assert not reads_everything(user)


def test_a_change_of_a_team_function_in_the_request_is_seen_by_the_next_check() -> None:
    user = make_user("tess", TeamFunction.DATA_SCIENCE)
    _bind()
    assert not reads_everything(user)
    team = Team.objects.get(slug="team-data_science")
    team.function = TeamFunction.AUDIT
    team.save()
    assert reads_everything(user)
    team.delete()
    assert not reads_everything(user)


def test_each_api_request_reads_the_teams_at_most_once(token_for) -> None:
    from django.test import Client

    auditor = make_user("aude", TeamFunction.AUDIT)
    client = Client(headers=bearer(token_for(auditor)))
    with CaptureQueriesContext(connection) as block:
        assert client.get("/api/v1/projects/").status_code == 200
        assert client.get("/api/v1/models/").status_code == 200
    assert _team_queries(block) == 2
    assert context._memo.get() is None, "the memo ends with the request"
