"""The portfolio's monitoring tile: versions monitored, breaching now, not fed in time; each links to its list."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.monitoring.models import Breach, Monitor
from apps.projects.models import Project
from apps.registry.models import ModelCard, ModelVersion, RegisteredModel
from apps.workflows.models import Deployment
from tests.conftest import bearer
from tests.factories import TeamFunction, make_user
from tests.monitoring.conftest import Watched, flow, watched

__all__ = ["flow", "watched"]

pytestmark = pytest.mark.django_db


def _copies(watched: Watched, count: int, start: int, *, breaching: int = 0, late: int = 0) -> list[Monitor]:
    """``count`` more projects, each with a deployed version and a monitor like the watched one (rows made directly)."""
    flow, template = watched.flow, watched.monitor
    projects = Project.objects.bulk_create(
        Project(name=f"Project {start + i}", slug=f"project-{start + i}", business_objective="x", created_by=flow.owner)
        for i in range(count)
    )
    models = RegisteredModel.objects.bulk_create(
        RegisteredModel(project=p, name=f"model-{p.slug}", task="binary_classification", created_by=flow.developer)
        for p in projects
    )
    versions = ModelVersion.objects.bulk_create(
        ModelVersion(model=m, number=1, status="deployed", created_by=flow.developer) for m in models
    )
    ModelCard.objects.bulk_create(ModelCard(version=v) for v in versions)
    deployments = Deployment.objects.bulk_create(
        Deployment(version=v, environment="production", deployed_by=flow.it_ops) for v in versions
    )
    monitors = []
    for i, (version, deployment) in enumerate(zip(versions, deployments, strict=True)):
        copy = Monitor.objects.get(pk=template.pk)
        copy.pk, copy.version, copy.deployment = None, version, deployment
        copy.feed_late_since = timezone.now() if i < late else None
        monitors.append(copy)
    Monitor.objects.bulk_create(monitors)
    Breach.objects.bulk_create(
        Breach(monitor=m, key=f"drift:psi:{column}::", check_name="drift", metric="psi", column=column, size="day",
               window_start=timezone.now())
        for m in monitors[:breaching]
        for column in ("f0", "f1")  # two metrics of one monitor: the version counts once
    )  # fmt: skip
    return monitors


def _numbers(page: str) -> dict[str, int]:
    return {
        state: int(re.search(rf'id="tile-{state}"><a href="[^"]*\?state={state}"><strong>(\d+)</strong>', page)[1])  # type: ignore[index]
        for state in ("monitored", "breaching", "late")
    }


def test_the_tile_counts_versions_and_each_number_links_to_the_monitors_behind_it(watched: Watched) -> None:
    monitors = _copies(watched, 4, 0, breaching=1, late=2)
    auditor = make_user("aude", TeamFunction.AUDIT)  # reads every project
    client = Client()
    client.force_login(auditor)
    page = client.get("/portfolio/").content.decode()
    assert _numbers(page) == {"monitored": 5, "breaching": 1, "late": 2}
    listed = {}
    for state in ("monitored", "breaching", "late"):
        response = client.get(f"/portfolio/monitors/?state={state}")
        assert response.status_code == 200
        listed[state] = {int(pk) for pk in re.findall(r'<tr data-monitor="(\d+)"', response.content.decode())}
    assert listed["monitored"] == {watched.monitor.pk, *(m.pk for m in monitors)}
    assert listed["breaching"] == {monitors[0].pk}
    assert listed["late"] == {monitors[0].pk, monitors[1].pk}
    breaching = client.get("/portfolio/monitors/?state=breaching").content.decode()
    assert "2 metrics breaching; not fed for longer than expected" in breaching
    assert f'href="/monitoring/monitors/{monitors[0].pk}/"' in breaching


def test_the_numbers_and_lists_hold_only_what_the_reader_may_see(watched: Watched) -> None:
    _copies(watched, 3, 0, breaching=3, late=3)  # projects the compliance officer is no member of
    client = Client()
    client.force_login(watched.flow.compliance)  # compliance of the watched project only
    assert _numbers(client.get("/portfolio/").content.decode()) == {"monitored": 1, "breaching": 0, "late": 0}
    for state in ("breaching", "late"):
        page = client.get(f"/portfolio/monitors/?state={state}").content.decode()
        assert "<tr data-monitor=" not in page
        assert 'id="no-monitors"' in page
    listed = client.get("/portfolio/monitors/?state=monitored").content.decode()
    assert re.findall(r'<tr data-monitor="(\d+)"', listed) == [str(watched.monitor.pk)]


def test_a_paused_monitor_is_not_counted_as_monitored_nor_late(watched: Watched) -> None:
    [monitor] = _copies(watched, 1, 0, late=1)
    Monitor.objects.filter(pk=monitor.pk).update(status="paused")
    admin = make_user("ada", superuser=True)
    client = Client()
    client.force_login(admin)
    assert _numbers(client.get("/portfolio/").content.decode()) == {"monitored": 1, "breaching": 0, "late": 0}


def test_a_retired_versions_monitors_no_longer_count_nor_go_late(watched: Watched) -> None:
    from apps.monitoring.services import monitors_check_feeds

    [late_and_breaching, quiet] = _copies(watched, 2, 0, breaching=1, late=1)
    admin = make_user("ada", superuser=True)
    client = Client()
    client.force_login(admin)
    before = _numbers(client.get("/portfolio/").content.decode())
    ModelVersion.objects.filter(pk__in=[late_and_breaching.version_id, quiet.version_id]).update(status="retired")
    after = _numbers(client.get("/portfolio/").content.decode())
    assert after["monitored"] == before["monitored"] - 2
    assert after["breaching"] == before["breaching"] - 1
    assert after["late"] == before["late"] - 1
    Monitor.objects.filter(pk=quiet.pk).update(
        last_batch_at=timezone.now() - timedelta(days=30), expected_interval_minutes=60
    )
    monitors_check_feeds()
    assert Monitor.objects.get(pk=quiet.pk).feed_late_since is None  # retired: nobody is told it is late
    page = client.get(f"/projects/{quiet.version.model.project.slug}/").content.decode()
    assert f"/monitoring/monitors/{quiet.pk}/" not in page


@pytest.mark.parametrize("state", ["x", "breaching'--", "Late", "late" * 100])
def test_an_unknown_state_is_a_400_that_names_the_choices(state: str) -> None:
    client = Client()
    client.force_login(make_user("cora", TeamFunction.COMPLIANCE))
    response = client.get("/portfolio/monitors/", {"state": state})
    assert response.status_code == 400
    assert b"monitored, breaching, late" in response.content


def test_only_the_overseers_read_the_list(watched: Watched) -> None:
    client = Client()
    client.force_login(watched.flow.developer)  # a member of the project, not an overseer
    assert client.get("/portfolio/monitors/?state=monitored").status_code == 403
    assert client.get("/portfolio/").status_code == 403


def test_the_api_gives_the_same_numbers(watched: Watched, token_for) -> None:
    _copies(watched, 2, 0, breaching=2)
    auditor = make_user("aude", TeamFunction.AUDIT)
    answer = Client(headers=bearer(token_for(auditor))).get("/api/v1/portfolio/").json()
    assert answer["monitoring"] == {"monitored": 3, "monitors": 3, "breaching": 2, "late": 0}


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/portfolio/", "/portfolio/monitors/?state=breaching", "/api/v1/portfolio/"])
def test_the_tile_and_its_lists_cost_the_same_with_4n_projects_as_with_n(url: str, watched: Watched, token_for) -> None:
    auditor = make_user("aude", TeamFunction.AUDIT)
    client = Client(headers=bearer(token_for(auditor)))
    client.force_login(auditor)
    _copies(watched, 5, 0, breaching=3, late=2)
    first = _queries(client, url)
    _copies(watched, 15, 5, breaching=9, late=6)
    assert _queries(client, url) == first
