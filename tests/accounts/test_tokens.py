"""API tokens: shown once, stored hashed, expiring, revocable, audited."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from apps.accounts.models import ApiToken, User
from apps.accounts.services import token_digest
from apps.audit.models import AuditEvent
from tests.conftest import bearer, signed_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'<code class="secret" id="new-token">(sgt_[A-Za-z0-9_-]+)</code>')


def test_a_token_made_on_the_settings_page_is_shown_once_and_stored_hashed(developer: User) -> None:
    client = signed_in(developer)
    response = client.post("/accounts/settings/", {"name": "release pipeline", "days": 30})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    match = TOKEN.search(response.content.decode())
    assert match
    raw = match.group(1)
    token = ApiToken.objects.get(user=developer)
    assert token.digest == token_digest(raw) != raw
    assert not ApiToken.objects.filter(digest=raw).exists()
    assert raw not in client.get("/accounts/settings/").content.decode()
    assert (token.expires_at - timezone.now()).days in (29, 30)
    event = AuditEvent.objects.get(action="accounts.api_token.created")
    assert raw not in str(event.data)
    assert event.data["prefix"] == raw[:12]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "days": 30}, "This field is required."),
        ({"name": "x", "days": 0}, "greater than or equal to 1"),
        ({"name": "x", "days": 100000}, "less than or equal to 365"),
        ({"name": "x", "days": "soon"}, "Enter a whole number."),
        ({"name": "n" * 101, "days": 3}, "at most 100 characters"),
    ],
)
def test_bad_token_requests_are_refused_with_a_message_and_create_nothing(
    developer: User, form: dict[str, object], message: str
) -> None:
    response = signed_in(developer).post("/accounts/settings/", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_bearer_token_authenticates_the_api_and_notes_its_use(developer: User, token_for) -> None:
    raw = token_for(developer)
    response = Client().get("/api/v1/me/", headers=bearer(raw))
    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["auth_method"]) == ("dev", "token")
    assert body["teams"][0]["function"] == "data_science"
    assert ApiToken.objects.get(user=developer).last_used_at is not None


def test_expired_revoked_and_unknown_tokens_are_401_in_the_error_shape(developer: User, token_for) -> None:
    expired = token_for(developer)
    ApiToken.objects.filter(digest=token_digest(expired)).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = token_for(developer)
    ApiToken.objects.filter(digest=token_digest(revoked)).update(revoked_at=timezone.now())
    for raw in (expired, revoked, "sgt_not-a-real-token", "something-else"):
        response = Client().get("/api/v1/me/", headers=bearer(raw))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_deactivated_persons_token_stops_working(developer: User, token_for) -> None:
    raw = token_for(developer)
    User.objects.filter(pk=developer.pk).update(is_active=False)
    assert Client().get("/api/v1/me/", headers=bearer(raw)).status_code == 401


def test_a_malformed_authorization_header_is_401() -> None:
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer a b c")
    assert response.status_code == 401
    assert "Authorization: Bearer <token>" in response.json()["error"]["message"]


def test_revoking_from_the_settings_page_is_audited_and_takes_effect(developer: User, token_for) -> None:
    raw = token_for(developer)
    token = ApiToken.objects.get(user=developer)
    client = signed_in(developer)
    assert client.post(f"/accounts/settings/tokens/{token.pk}/revoke/").status_code == 302
    assert Client().get("/api/v1/me/", headers=bearer(raw)).status_code == 401
    assert AuditEvent.objects.filter(action="accounts.api_token.revoked", target_id=str(token.pk)).count() == 1


def test_nobody_revokes_someone_elses_token_through_the_page(developer: User, token_for) -> None:
    token_for(developer)
    token = ApiToken.objects.get(user=developer)
    other = make_user("eve")
    assert signed_in(other).post(f"/accounts/settings/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_createtoken_prints_a_working_token(developer: User) -> None:
    out = StringIO()
    call_command("createtoken", "dev", "--name", "ci", "--days", "7", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("sgt_")
    assert Client().get("/api/v1/me/", headers=bearer(raw)).status_code == 200
    event = AuditEvent.objects.get(action="accounts.api_token.created")
    assert (event.actor_id, event.auth_method) == (None, "system")


@pytest.mark.parametrize(("args", "message"), [(["nobody"], "no user named"), (["dev", "--days", "0"], "days")])
def test_createtoken_refuses_bad_input(developer: User, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("createtoken", *args, stdout=StringIO())
    assert not ApiToken.objects.exists()
