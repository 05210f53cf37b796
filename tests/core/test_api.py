"""The API base: deny by default, one error shape, OpenAPI schema and offline docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from tests.conftest import bearer

pytestmark = pytest.mark.django_db


def _assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_anonymous_callers_get_401_in_the_error_shape(client: Client) -> None:
    _assert_error_shape(client.get("/api/v1/me/"), 401, "not_authenticated")
    _assert_error_shape(client.get("/api/v1/audit-events/"), 401, "not_authenticated")


def test_unknown_api_paths_are_404_in_the_error_shape(client: Client) -> None:
    _assert_error_shape(client.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_wrong_method_is_405_in_the_error_shape(developer: User, token_for) -> None:
    _assert_error_shape(Client().post("/api/v1/me/", headers=bearer(token_for(developer))), 405, "method_not_allowed")


def test_forbidden_is_403_in_the_error_shape(developer: User, token_for) -> None:
    error = _assert_error_shape(
        Client().get("/api/v1/audit-events/", headers=bearer(token_for(developer))), 403, "permission_denied"
    )
    assert "audit team" in error["message"]


def test_invalid_filters_are_400_with_field_details(auditor: User, token_for) -> None:
    response = Client().get("/api/v1/audit-events/?since=yesterday-ish", headers=bearer(token_for(auditor)))
    error = _assert_error_shape(response, 400, "invalid")
    assert "since" in error["details"]


def test_session_writes_without_csrf_are_refused(auditor: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(auditor)
    _assert_error_shape(client.post("/api/v1/me/"), 403, "permission_denied")


@pytest.mark.urls("tests.core.urls_boom")
def test_a_view_that_names_no_permission_serves_nobody(administrator: User, token_for) -> None:
    _assert_error_shape(
        Client().get("/api/v1/undeclared/", headers=bearer(token_for(administrator))), 403, "permission_denied"
    )


@pytest.mark.urls("tests.core.urls_boom")
def test_an_unexpected_failure_is_a_500_in_the_error_shape() -> None:
    client = Client(raise_request_exception=False)
    error = _assert_error_shape(client.get("/api/v1/boom/"), 500, "server_error")
    assert "a bug" not in error["message"]


def test_the_openapi_schema_validates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/audit-events/" in text
    assert "bearerAuth" in text


def test_schema_and_interactive_docs_are_served_without_internet(client: Client) -> None:
    assert client.get("/api/v1/schema/").status_code == 200
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


# --- pagination ---------------------------------------------------------------------------------


def _cursor(query: str) -> str:
    import base64

    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        _cursor("o=x"),  # an offset that is no number
        _cursor("r=maybe"),
        _cursor("p=abc"),  # a position that is no value of the ordering field: was a 500
        _cursor("p=1e5"),
        _cursor("p=" + "9" * 40),
        _cursor("o=-5"),
    ],
)
def test_an_invalid_cursor_is_a_400_that_says_so(org, token_for, cursor: str) -> None:
    headers = bearer(token_for(org.auditor))
    for path in ("/api/v1/audit-events/", "/api/v1/projects/", "/api/v1/models/"):
        response = Client().get(path, {"cursor": cursor}, headers=headers)
        error = _assert_error_shape(response, 400, "invalid")
        assert "cursor" in error["details"], (path, cursor)
        assert "next or previous link" in error["message"]


@pytest.mark.parametrize("page_size", ["0", "-1", "201", "1000", "abc", "1.5", "1e2", "", " 5", "٣", "9" * 30])
def test_a_page_size_outside_1_to_200_is_a_400_not_a_silent_default(org, token_for, page_size: str) -> None:
    response = Client().get("/api/v1/audit-events/", {"page_size": page_size}, headers=bearer(token_for(org.auditor)))
    error = _assert_error_shape(response, 400, "invalid")
    assert error["details"] == {"page_size": ["Give a whole number of rows from 1 to 200."]}


def test_following_the_next_links_walks_the_whole_list_once(org, token_for) -> None:
    headers = bearer(token_for(org.auditor))
    seen: list[int] = []
    url: str | None = "/api/v1/audit-events/?page_size=2"
    while url:
        response = Client().get(url, headers=headers)
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["results"]) <= 2
        seen.extend(event["seq"] for event in body["results"])
        url = body["next"]
    assert len(seen) > 4
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == len(seen)
    assert Client().get("/api/v1/audit-events/?page_size=200", headers=headers).status_code == 200
    assert Client().get("/api/v1/audit-events/?page_size=1", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("path", "parameter"),
    [("/api/v1/reviews/?assigned=you", "assigned"), ("/api/v1/notifications/?unread=yes", "unread")],
)
def test_a_filter_value_the_api_does_not_know_is_a_400_not_the_whole_list(
    org, token_for, path: str, parameter: str
) -> None:
    error = _assert_error_shape(Client().get(path, headers=bearer(token_for(org.validator))), 400, "invalid")
    assert parameter in error["details"]


def test_the_schema_declares_the_error_answers_and_an_empty_risk_tier(client: Client) -> None:
    schema = client.get("/api/v1/schema/?format=json", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            assert {"400", "401", "403", "404"} <= set(operation["responses"]), operation["operationId"]
    tier = schema["components"]["schemas"]["Project"]["properties"]["risk_tier"]
    choices = [option["$ref"].rsplit("/", 1)[1] for option in tier["oneOf"]]
    assert choices == ["RiskTierEnum", "BlankEnum"]
    gate = {p["name"]: p for p in schema["paths"]["/api/v1/gate/"]["get"]["parameters"]}
    assert gate["environment"]["required"]
    # The version is named by model and version or by a reference: OpenAPI 3.0 cannot say "one of".
    assert not any(gate[name].get("required") for name in ("model", "version", "reference", "artifact_sha256"))
    assert gate["artifact_sha256"]["schema"]["pattern"] == "^[0-9a-f]{64}$"
