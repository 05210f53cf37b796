"""The monitoring page: a metric over time against its threshold, the breaches, the batches; for the project only."""

from __future__ import annotations

import re
from html import unescape

import pytest

from apps.monitoring import presenters
from apps.validation.models import ValidationRun
from tests.conftest import signed_in
from tests.monitoring.conftest import SUITE, Watched, hour, settle, traffic


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
    assert '<strong aria-current="page">Hour</strong>' in hourly.content.decode()


def test_the_page_is_a_404_for_an_outsider(watched: Watched) -> None:
    assert signed_in(watched.flow.outsider).get(f"/monitoring/monitors/{watched.monitor.pk}/").status_code == 404


def test_the_version_page_lists_its_monitors_and_whether_they_breach(watched: Watched) -> None:
    page = signed_in(watched.flow.validator).get(f"/registry/versions/{watched.flow.version.pk}/")
    html = page.content.decode()
    assert f'href="/monitoring/monitors/{watched.monitor.pk}/"' in html
    assert "within thresholds" in html


def drifted(watched: Watched, shift: float) -> str:
    """Calm traffic, then traffic whose features moved by ``shift``; the hourly page as the business owner reads it."""
    watched.send(traffic(3000, start=hour(4), seed=61, first_id=50_000), "calm.csv")
    settle(watched)
    watched.send(traffic(800, start=hour(2), seed=62, shift=shift), "drift.csv")
    settle(watched)
    url = f"/monitoring/monitors/{watched.monitor.pk}/?size=hour"
    return unescape(signed_in(watched.flow.business_owner).get(url).content.decode())


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</section>', html, re.S)
    assert found, element_id
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def test_the_page_says_in_plain_words_which_way_a_feature_moved(watched: Watched) -> None:
    html = drifted(watched, 1.5)
    summary = text_of(html, "summary")
    assert "In the latest hour window f0 is higher than in the reference data" in summary
    assert "of its values are above its median in the reference data, against 50% then" in summary
    assert "Its PSI is 2.48, beyond the threshold of at most 0.2." in summary
    assert "c0" not in summary  # the categories did not move


def test_a_feature_that_fell_is_lower(watched: Watched) -> None:
    assert "f0 is lower than in the reference data" in text_of(drifted(watched, -0.9), "summary")


def test_the_default_reference_is_named_as_the_data_of_the_approval(flow, tmp_path) -> None:
    watched = Watched(flow, tmp_path)
    ValidationRun.objects.create(
        version=flow.version, spec=SUITE, reference=watched.reference, current=watched.reference,
        status="succeeded", created_by=flow.developer,
    )  # fmt: skip
    summary = text_of(drifted(watched, 1.5), "summary")
    assert "f0 is higher than at approval: " in summary
    assert "above its median at approval" in summary


def test_labels_not_known_yet_are_not_shown_as_a_breach(watched: Watched) -> None:
    html = drifted(watched, 1.5)
    assert "missing rate of y_true" not in html.lower()
    assert "Quality missing rate of f0" in html


def test_calm_traffic_is_within_every_threshold_in_plain_words(watched: Watched) -> None:
    watched.send(traffic(2000, start=hour(3), seed=61), "calm.csv")
    settle(watched)
    html = unescape(signed_in(watched.flow.owner).get(f"/monitoring/monitors/{watched.monitor.pk}/").content.decode())
    assert "In the latest day window every metric is within its threshold." in text_of(html, "summary")
    assert "f0 looks as it did in the reference data: its PSI is" in html
    assert "<strong>breaching</strong>" not in html


def test_the_chart_is_labelled_marks_where_it_crossed_and_lists_its_values(watched: Watched) -> None:
    html = drifted(watched, 1.5)
    label = re.search(r'<svg role="img" aria-label="(drift psi of f0[^"]*)"', html)
    assert label, html[:2000]
    assert "per hour" in label.group(1)
    assert "threshold 0.2" in label.group(1)
    assert "crossed it in the window of" in label.group(1)
    assert 'class="limit crossing"' in html
    assert "The values, window by window" in html
    assert re.search(r"<td>[^<]*</td><td>2\.4802</td><td><span class=\"badge status-fail\">fail", html)


def test_an_unknown_window_size_falls_back_to_the_breach_window(watched: Watched) -> None:
    page = signed_in(watched.flow.owner).get(f"/monitoring/monitors/{watched.monitor.pk}/?size=<script>")
    assert page.status_code == 200
    assert '<strong aria-current="page">Day</strong>' in page.content.decode()
    assert "<script>" not in page.content.decode().split("<main", 1)[-1]


def test_a_window_fed_too_often_is_described_without_its_direction(watched: Watched, monkeypatch) -> None:
    monkeypatch.setattr(presenters, "PROFILES_READ", 0)
    summary = text_of(drifted(watched, 1.5), "summary")
    assert "f0 no longer looks as it did in the reference data. Its PSI is 2.48" in summary


@pytest.mark.parametrize(
    ("window", "words"),
    [
        ([0, 0, 0, 0, 0, 10, 10, 10, 10, 10], "x is higher than at approval"),
        ([10, 10, 10, 10, 10, 0, 0, 0, 0, 0], "x is lower than at approval"),
        ([25, 0, 0, 0, 0, 0, 0, 0, 0, 25], "x is more spread out than at approval"),
        ([0, 0, 0, 0, 25, 25, 0, 0, 0, 0], "x is more concentrated than at approval"),
    ],
)
def test_the_direction_of_a_numeric_feature_comes_from_the_reference_bins(window: list[int], words: str) -> None:
    reference = {"edges": list(range(9)), "counts": [10] * 10}
    shift = presenters.numeric_shift("x", reference, window, "at approval")
    assert shift is not None
    assert shift.what == words


def test_the_category_that_gained_most_is_named() -> None:
    reference = {"counts": {"north": 50, "south": 30, "east": 20}}
    shift = presenters.categorical_shift("region", reference, {"north": 20, "south": 70, "east": 10}, "at approval")
    assert shift is not None
    assert (shift.what, shift.figures) == (
        "region is “south” more often than at approval",
        "70% of rows, against 30% then",
    )
    new = presenters.categorical_shift("region", reference, {"west": 5, "north": 5}, "at approval")
    assert new is not None
    assert new.figures == "50% of rows, against none then"
    assert presenters.numeric_shift("x", {"counts": [1, 2]}, [1, 2, 3], "at approval") is None


def test_the_page_reads_as_many_queries_whatever_the_monitor_holds(watched: Watched) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(watched.flow.owner)
    url = f"/monitoring/monitors/{watched.monitor.pk}/?size=hour"

    def queries() -> int:
        client.get(url)  # the session and the request's teams are read the first time
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    watched.send(traffic(1000, start=hour(5), seed=61), "calm.csv")
    watched.send(traffic(500, start=hour(3), seed=62, shift=1.5, first_id=10_000), "drift-1.csv")
    settle(watched)
    few = queries()
    for n in range(3):
        watched.send(traffic(300, start=hour(2 - n * 0.5), seed=70 + n, shift=1.5, first_id=20_000 + n * 1000))
    settle(watched)
    assert "is higher than" in signed_in(watched.flow.owner).get(url).content.decode()
    assert queries() == few
