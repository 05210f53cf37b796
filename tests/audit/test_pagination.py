"""The auditor's page reads one page of the trail: keyset links on seq, no count, the same queries at any length."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.audit import selectors
from apps.audit.models import AuditEvent
from apps.audit.services import AuditEntry, audit_record_many
from apps.audit.views import PAGE_SIZE
from tests.conftest import bearer, signed_in
from tests.factories import TeamFunction, make_project, make_user

pytestmark = pytest.mark.django_db


def _write(n: int, *, actor: User, project: object) -> None:
    audit_record_many(
        AuditEntry(actor=actor, action="test.page.recorded", project=project, data={"i": i})  # type: ignore[arg-type]
        for i in range(n)
    )


def _seqs(html: str) -> list[int]:
    return [int(seq) for seq in re.findall(r"<tr>\s*<td>(\d+)</td>", html)]


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_page_walks_the_trail_newest_first_with_older_and_newer_links(auditor: User, developer: User) -> None:
    project = make_project(developer, name="Paged")
    _write(PAGE_SIZE * 2 + 5, actor=developer, project=project)
    client = signed_in(auditor)
    matching = list(
        AuditEvent.objects.filter(action="test.page.recorded").order_by("-seq").values_list("seq", flat=True)
    )

    first = client.get("/audit/?action=test.page.recorded").content.decode()
    assert _seqs(first) == matching[:PAGE_SIZE]
    assert _link(first, "prev") is None
    older = _link(first, "next")
    assert older == f"?action=test.page.recorded&before={matching[PAGE_SIZE - 1]}"

    second = client.get(f"/audit/{older}").content.decode()
    assert _seqs(second) == matching[PAGE_SIZE : PAGE_SIZE * 2]
    third_link = _link(second, "next")
    assert third_link is not None
    third = client.get(f"/audit/{third_link}").content.decode()
    assert _seqs(third) == matching[PAGE_SIZE * 2 :]
    assert _link(third, "next") is None  # the oldest page

    back = _link(third, "prev")
    assert back is not None
    assert _seqs(client.get(f"/audit/{back}").content.decode()) == matching[PAGE_SIZE : PAGE_SIZE * 2]
    newest = _link(second, "prev")
    assert newest is not None
    page = client.get(f"/audit/{newest}").content.decode()
    assert _seqs(page) == matching[:PAGE_SIZE]
    assert _link(page, "prev") is None  # nothing newer than the newest page
    assert "Page 1 of" not in page  # no count of the whole filtered trail any more


@pytest.mark.parametrize(
    "query",
    ["before=abc", "after=-3", "before=0", "before=99999999999999999999", "before=5&after=2", "after="],
)
def test_a_cursor_the_page_did_not_give_out_is_a_400_with_a_message(auditor: User, query: str) -> None:
    response = signed_in(auditor).get(f"/audit/?{query}")
    assert response.status_code == 400
    assert "The page link is not one this page gave out" in response.content.decode()


def test_an_old_numbered_page_link_shows_the_newest_page(auditor: User) -> None:
    response = signed_in(auditor).get("/audit/?page=7")
    assert response.status_code == 200
    assert "page=" not in response.content.decode().split("pager")[-1]


def test_filters_by_project_and_actor_read_the_names_kept_with_each_event(auditor: User, developer: User) -> None:
    other = make_user("olga", TeamFunction.DATA_SCIENCE)
    mine, theirs = make_project(developer, name="Mine"), make_project(other, name="Theirs")
    _write(3, actor=developer, project=mine)
    _write(2, actor=other, project=theirs)
    client = signed_in(auditor)
    html = client.get("/audit/?project=theirs&action=test.page.recorded").content.decode()
    assert len(_seqs(html)) == 2
    html = client.get("/audit/?actor=dev&action=test.page.recorded").content.decode()
    assert len(_seqs(html)) == 3
    assert "theirs" not in html


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    trail = [q["sql"] for q in captured if "audit_auditevent" in q["sql"]]
    assert not [sql for sql in trail if "COUNT(" in sql.upper()], "the trail is never counted"
    assert all("LIMIT" in sql for sql in trail), trail  # every read of the trail is bounded
    return len(captured)


URLS = [
    "/audit/",
    "/audit/?project=counted",
    "/audit/?actor=dev",
    "/audit/?actor=dev&project=counted&action=test.",
    "/api/v1/audit-events/?project=counted",
    "/api/v1/audit-events/?actor=dev",
]


def test_the_page_and_the_api_run_the_same_queries_for_n_and_4n_events(
    auditor: User, developer: User, token_for
) -> None:
    project = make_project(developer, name="Counted")
    client = signed_in(auditor)
    api = Client(headers=bearer(token_for(auditor)))
    _write(PAGE_SIZE * 2, actor=developer, project=project)
    before = {url: _queries(api if url.startswith("/api/") else client, url) for url in URLS}
    last = AuditEvent.objects.filter(project_slug="counted").order_by("-seq").values_list("seq", flat=True)[10]
    before["older"] = _queries(client, f"/audit/?project=counted&before={last}")
    _write(PAGE_SIZE * 6, actor=developer, project=project)
    after = {url: _queries(api if url.startswith("/api/") else client, url) for url in URLS}
    after["older"] = _queries(client, f"/audit/?project=counted&before={last}")
    assert after == before


def test_a_timeline_is_one_bounded_query_however_long_the_trail(developer: User) -> None:
    project = make_project(developer, name="Timeline")
    _write(40, actor=developer, project=project)
    with CaptureQueriesContext(connection) as captured:
        events = selectors.timeline_for(project_pk=project.pk, limit=30)
    assert len(events) == 30
    assert len(captured) == 1
    assert "LIMIT 30" in captured[0]["sql"]
    assert [e.seq for e in events] == sorted((e.seq for e in events), reverse=True)
