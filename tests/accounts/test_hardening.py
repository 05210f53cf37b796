"""Cases found in review: demoted administrators, forged addresses, odd headers, password flows."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from apps.accounts import services
from apps.accounts.models import User
from apps.accounts.services import SESSION_SEEN_AT
from apps.audit.models import AuditEvent
from tests.conftest import signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_demoted_administrator_loses_the_audit_trail(administrator: User, developer: User) -> None:
    services.user_update(actor=None, user=developer, is_superuser=True)
    services.user_update(actor=administrator, user=developer, is_superuser=False)
    developer.refresh_from_db()
    assert (developer.is_superuser, developer.is_staff) == (False, False)
    assert signed_in(developer).get("/audit/").status_code == 403


def test_staff_without_superuser_is_no_administrator(developer: User) -> None:
    User.objects.filter(pk=developer.pk).update(is_staff=True)
    assert signed_in(developer).get("/audit/").status_code == 403


@override_settings(SIGNET_TRUST_X_FORWARDED_FOR=True)
@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("6.6.6.6, 203.0.113.7", "203.0.113.7"),
        ("203.0.113.7", "203.0.113.7"),
        ("not-an-ip", "127.0.0.1"),
        ("", "127.0.0.1"),
    ],
)
def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(
    developer: User, forwarded: str, expected: str
) -> None:
    Client(HTTP_X_FORWARDED_FOR=forwarded).post("/accounts/sign-in/", {"username": "dev", "password": PASSWORD})
    assert AuditEvent.objects.get(action="accounts.sign_in.succeeded").ip == expected


def test_forwarded_addresses_are_ignored_unless_the_proxy_is_trusted(developer: User) -> None:
    Client(HTTP_X_FORWARDED_FOR="6.6.6.6").post("/accounts/sign-in/", {"username": "dev", "password": PASSWORD})
    assert AuditEvent.objects.get(action="accounts.sign_in.succeeded").ip == "127.0.0.1"


@pytest.mark.parametrize("header", ["\x1c", "\xa0", "\t", "Bearer"])
def test_blank_or_bare_authorization_headers_are_401_not_500(header: str) -> None:
    response = Client().get("/api/v1/me/", headers={"Authorization": header})
    assert response.status_code == 401
    assert "error" in response.json()


def test_polling_fragments_do_not_keep_a_session_alive_and_send_htmx_to_sign_in(auditor: User) -> None:
    client = signed_in(auditor)
    session = client.session
    session[SESSION_SEEN_AT] = time.time() - settings.SIGNET_SESSION_IDLE_MINUTES * 60 + 60
    session.save()
    before = client.session[SESSION_SEEN_AT]
    poll = {"HX-Request": "true", "X-Signet-Poll": "1"}
    assert client.get("/audit/verification/", headers=poll).status_code == 200
    assert client.session[SESSION_SEEN_AT] == before
    session = client.session
    session[SESSION_SEEN_AT] = time.time() - settings.SIGNET_SESSION_IDLE_MINUTES * 60 - 5
    session.save()
    response = client.get("/audit/verification/", headers=poll)
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/sign-in/")


def test_changing_ones_password_on_the_settings_page_is_audited(developer: User) -> None:
    client = signed_in(developer)
    new = "another-long-passphrase-42"
    wrong = client.post(
        "/accounts/settings/password/", {"old_password": "nope", "new_password1": new, "new_password2": new}
    )
    assert wrong.status_code == 400
    assert "Your old password was entered incorrectly" in wrong.content.decode()
    response = client.post(
        "/accounts/settings/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # still signed in
    developer.refresh_from_db()
    assert developer.check_password(new)
    assert AuditEvent.objects.filter(action="accounts.user.password_changed", actor=developer).count() == 1


def test_disabling_a_password_in_the_admin_is_audited_and_takes_effect(administrator: User, developer: User) -> None:
    client = signed_in(administrator)
    response = client.post(
        f"/admin/accounts/user/{developer.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    developer.refresh_from_db()
    assert not developer.has_usable_password()
    assert AuditEvent.objects.filter(action="accounts.user.password_disabled", target_id=str(developer.pk)).exists()


def test_the_admin_sign_out_and_password_pages_go_through_signet(administrator: User) -> None:
    client = signed_in(administrator)
    assert client.get("/admin/password_change/")["Location"] == "/accounts/settings/#password"
    assert client.post("/admin/logout/").status_code == 302
    assert AuditEvent.objects.filter(action="accounts.sign_out", actor=administrator).count() == 1


def test_changepassword_on_the_command_line_is_audited(developer: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-new-long-passphrase-7")
    call_command("changepassword", "dev", stdout=StringIO(), stderr=StringIO())
    developer.refresh_from_db()
    assert developer.check_password("a-new-long-passphrase-7")
    event = AuditEvent.objects.get(action="accounts.user.password_changed")
    assert (event.actor_id, event.auth_method, event.target_id) == (None, "system", str(developer.pk))


def test_createsuperuser_is_audited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-passphrase-9")
    call_command("createsuperuser", "--noinput", "--username", "boss", "--email", "boss@example.org", stdout=StringIO())
    event = AuditEvent.objects.get(action="accounts.user.created")
    assert event.changes["is_superuser"] == {"before": None, "after": True}
    assert User.objects.get(username="boss").is_staff


def test_a_locked_out_script_leaves_one_locked_event_per_window(developer: User) -> None:
    client = Client()
    for _ in range(settings.SIGNET_LOGIN_MAX_FAILURES + 10):
        client.post("/accounts/sign-in/", {"username": "dev", "password": "guess"})
    failed = AuditEvent.objects.filter(action="accounts.sign_in.failed")
    assert failed.filter(data__reason="invalid").count() == settings.SIGNET_LOGIN_MAX_FAILURES
    assert failed.filter(data__reason="locked").count() == 1
