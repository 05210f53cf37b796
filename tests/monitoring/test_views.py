"""The monitoring page: a metric over time against its threshold, the breaches, the batches; for the project only."""

from __future__ import annotations

from tests.conftest import signed_in
from tests.monitoring.conftest import Watched, hour, settle, traffic


def test_the_page_shows_the_drift_crossing_its_threshold_and_the_breach(watched: Watched) -> None:
    watched.send(traffic(3000, start=hour(4), seed=61, first_id=50_000), "calm.csv")
    settle(watched)
    watched.send(traffic(800, start=hour(2), seed=62, shift=1.5), "drift.csv")
    settle(watched)
    url = f"/monitoring/monitors/{watched.monitor.pk}/"
    page = signed_in(watched.flow.business_owner).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Drift psi of f0" in html
    assert "has moved away from the reference" in html
    assert "threshold 0.2" in html
    assert "<strong>breaching</strong>" in html
    assert "Monitor production: drift psi (f0)" in html  # the finding
    assert "Profiled" in html
    hourly = signed_in(watched.flow.owner).get(url + "?size=hour")
    assert hourly.status_code == 200
    assert "<strong>Hour</strong>" in hourly.content.decode()


def test_the_page_is_a_404_for_an_outsider(watched: Watched) -> None:
    assert signed_in(watched.flow.outsider).get(f"/monitoring/monitors/{watched.monitor.pk}/").status_code == 404


def test_the_version_page_lists_its_monitors_and_whether_they_breach(watched: Watched) -> None:
    page = signed_in(watched.flow.validator).get(f"/registry/versions/{watched.flow.version.pk}/")
    html = page.content.decode()
    assert f'href="/monitoring/monitors/{watched.monitor.pk}/"' in html
    assert "within thresholds" in html
