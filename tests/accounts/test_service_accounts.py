"""Service accounts: a pipeline's account, made by an administrator, signing in only with API tokens."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from apps.accounts import services
from apps.accounts.models import ApiToken, User
from apps.audit.models import AuditEvent
from tests.conftest import bearer, signed_in
from tests.factories import TeamFunction, team_for

pytestmark = pytest.mark.django_db


def _command(*args: str) -> str:
    out = StringIO()
    call_command("createserviceaccount", *args, stdout=out)
    return out.getvalue()


def test_the_command_creates_a_service_account_in_its_teams_and_prints_nothing_secret() -> None:
    team_for(TeamFunction.IT_OPS)
    printed = _command("deploy-bot", "--team", "team-it_ops", "--name", "Deploy pipeline")
    bot = User.objects.get(username="deploy-bot")
    assert (bot.is_service_account, bot.has_usable_password(), bot.is_superuser) == (True, False, False)
    assert list(bot.teams.values_list("slug", flat=True)) == ["team-it_ops"]
    assert bot.first_name == "Deploy pipeline"
    assert printed == (
        "Created the service account deploy-bot. Give it an API token with `createtoken deploy-bot` "
        "and the it_ops role in the projects it deploys.\n"
    )
    assert not ApiToken.objects.filter(user=bot).exists()  # the token is a separate, deliberate step
    event = AuditEvent.objects.get(action="accounts.user.created", target_id=str(bot.pk))
    assert event.changes["is_service_account"] == {"before": None, "after": True}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("bot", "--team", "no-such-team"), "no team with the slug 'no-such-team'"),
        (("bad name!",), "username"),
    ],
)
def test_the_command_refuses_bad_input_and_creates_nothing(args: tuple[str, ...], words: str) -> None:
    with pytest.raises(CommandError, match=words):
        _command(*args)
    assert not User.objects.filter(is_service_account=True).exists()


def test_a_service_account_gets_no_password_and_is_never_an_administrator(administrator: User) -> None:
    with pytest.raises(ValidationError, match="has no password"):
        services.user_create(
            actor=administrator, username="bot", password="a-long-passphrase-9", is_service_account=True
        )
    with pytest.raises(ValidationError, match="never an administrator"):
        services.user_create(actor=administrator, username="bot", is_superuser=True, is_service_account=True)
    bot = services.user_create(actor=administrator, username="bot", is_service_account=True)
    with pytest.raises(ValidationError, match="never an administrator"):
        services.user_update(actor=administrator, user=bot, is_superuser=True)
    bot.refresh_from_db()
    assert not bot.is_superuser


def test_a_service_account_never_signs_in_with_a_password_but_calls_the_api_with_a_token(
    administrator: User,
) -> None:
    bot = services.user_create(actor=administrator, username="bot", is_service_account=True)
    services.user_set_password(actor=administrator, user=bot, password="given-by-mistake-7")  # it happens
    response = Client().post("/accounts/sign-in/", {"username": "bot", "password": "given-by-mistake-7"})
    assert response.status_code == 400
    assert "This is a service account: it calls the API with a token" in response.content.decode()
    assert "_auth_user_id" not in Client().session
    failed = AuditEvent.objects.get(action="accounts.sign_in.failed")
    assert failed.data == {"username": "bot", "reason": "service_account"}
    assert not AuditEvent.objects.filter(action="accounts.sign_in.succeeded").exists()
    _token, raw = services.api_token_create(actor=None, user=bot, name="pipeline", days=30)
    assert Client(headers=bearer(raw)).get("/api/v1/deployments/").status_code == 200


def test_making_a_person_a_service_account_takes_the_password_away(administrator: User, developer: User) -> None:
    services.user_update(actor=administrator, user=developer, is_service_account=True)
    developer.refresh_from_db()
    assert (developer.is_service_account, developer.has_usable_password()) == (True, False)
    event = AuditEvent.objects.filter(action="accounts.user.updated", target_id=str(developer.pk)).get()
    assert event.changes["is_service_account"] == {"before": False, "after": True}


def test_the_admin_creates_a_service_account_with_its_box_and_refuses_one_with_a_password(
    administrator: User,
) -> None:
    client = signed_in(administrator)
    refused = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "bot",
            "is_service_account": "on",
            "usable_password": "true",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
        },
    )
    assert refused.status_code == 200  # the form again, with the reason
    assert "A service account has no password" in refused.content.decode()
    assert not User.objects.filter(username="bot").exists()
    created = client.post(
        "/admin/accounts/user/add/", {"username": "bot", "is_service_account": "on", "usable_password": "false"}
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    bot = User.objects.get(username="bot")
    assert (bot.is_service_account, bot.has_usable_password()) == (True, False)
    assert "is_service_account" in client.get(f"/admin/accounts/user/{bot.pk}/change/").content.decode()
