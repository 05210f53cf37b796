"""The home page, the review page and the version page's workflow section: as many queries with 4N rows as with N.

Their lists grow without end in an organisation (open reviews, findings, deployments); each page
reads a bounded number of rows and says when there are more.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.home.views import SHOWN
from apps.registry.choices import VersionStatus
from apps.registry.models import ModelVersion
from apps.workflows import selectors
from apps.workflows.models import Deployment, Finding
from tests.workflows.conftest import Flow
from tests.workflows.test_query_counts import _open_reviews

pytestmark = pytest.mark.django_db


def _get(client: Client, url: str) -> tuple[int, str]:
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured), response.content.decode()


def _findings(flow: Flow, count: int, start: int, *, version: ModelVersion | None, owner=None) -> None:
    Finding.objects.bulk_create(
        Finding(
            model=flow.model,
            version=version,
            kind="model_limitation",
            severity="low",
            title=f"Limitation {start + i}",
            owner=owner or flow.developer,
            raised_by=flow.validator,
        )
        for i in range(count)
    )


def test_the_home_page_costs_the_same_with_4n_waiting_reviews_and_findings_as_with_n() -> None:
    flow = Flow("low")  # one validation stage: every open review waits for the validators
    client = Client()
    client.force_login(flow.validator)
    n = 3
    _open_reviews(flow, n)
    _findings(flow, n, 0, version=flow.version, owner=flow.validator)
    first, _ = _get(client, "/")
    _open_reviews(flow, 3 * n)
    _findings(flow, 3 * n, n, version=flow.version, owner=flow.validator)
    again, page = _get(client, "/")
    assert again == first
    waiting = page.split('id="waiting-reviews"', 1)[1].split("</ul>", 1)[0]
    assert waiting.count("<li>") == SHOWN
    assert 'id="waiting-more"' in page
    assert f"of your {4 * n} open findings" in page


def test_the_inbox_keeps_reading_batches_until_it_has_the_reviews_it_shows(monkeypatch) -> None:
    flow = Flow("low")
    _open_reviews(flow, 5)
    monkeypatch.setattr(selectors, "WAITING_BATCH", 2)
    everything = selectors.reviews_waiting_for(flow.validator)
    assert len(everything) == 5
    assert selectors.reviews_waiting_for(flow.validator, limit=3) == everything[:3]
    assert selectors.reviews_waiting_for(flow.validator, limit=10) == everything
    assert selectors.reviews_waiting_for(flow.developer, limit=3) == []  # the developer signs nothing


def test_the_review_page_costs_the_same_with_4n_findings_as_with_n() -> None:
    flow = Flow("low")
    review = flow.submit()
    client = Client()
    client.force_login(flow.validator)
    n = 15
    _findings(flow, n, 0, version=flow.version)
    first, _ = _get(client, f"/workflows/reviews/{review.pk}/")
    _findings(flow, 3 * n, n, version=flow.version)
    again, page = _get(client, f"/workflows/reviews/{review.pk}/")
    assert again == first
    assert page.count('id="finding-') == selectors.SHOWN_FINDINGS
    assert f"of {4 * n} findings" in page


def test_the_version_and_model_pages_read_a_bounded_number_of_findings_and_deployments() -> None:
    flow = Flow("low")
    client = Client()
    client.force_login(flow.validator)
    ModelVersion.objects.filter(pk=flow.version.pk).update(status=VersionStatus.DEPLOYED)
    now = timezone.now()

    def grow(count: int, start: int) -> None:
        _findings(flow, count, start, version=flow.version)
        _findings(flow, count, start, version=None)
        Deployment.objects.bulk_create(
            Deployment(
                version=flow.version,
                environment="production",
                deployed_by=flow.it_ops,
                deployed_at=now - timedelta(hours=start + i),
            )
            for i in range(count)
        )

    n = 20
    grow(n, 0)
    version_first, _ = _get(client, f"/registry/versions/{flow.version.pk}/")
    model_first, _ = _get(client, f"/registry/models/{flow.model.pk}/")
    grow(3 * n, n)
    version_again, page = _get(client, f"/registry/versions/{flow.version.pk}/")
    model_again, model_page = _get(client, f"/registry/models/{flow.model.pk}/")
    assert (version_again, model_again) == (version_first, model_first)
    assert page.count('id="finding-') == selectors.SHOWN_FINDINGS
    assert model_page.count('id="finding-') == selectors.SHOWN_FINDINGS
