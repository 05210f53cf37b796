"""Sending batches through the API: accepted once, and every hostile batch refused with its reason, nothing stored."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from django.conf import settings
from django.test import override_settings

from apps.audit.models import AuditEvent
from apps.monitoring.models import Batch
from tests.monitoring.conftest import Watched, hour, outcomes_of, traffic, write


def batches_url(watched: Watched) -> str:
    return f"/api/v1/monitors/{watched.monitor.pk}/batches/"


def post_file(client, watched: Watched, path: Path, **fields: str):
    with path.open("rb") as file:
        return client.post(batches_url(watched), {"file": file, **fields})


def stored(watched: Watched) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "monitoring" / str(watched.monitor.pk) / "batches"
    return sorted(folder.glob("*")) if folder.exists() else []


def nothing_received(watched: Watched) -> None:
    assert Batch.objects.filter(monitor=watched.monitor).count() == 0
    assert not AuditEvent.objects.filter(action="monitoring.batch.received").exists()
    assert stored(watched) == []


def refused(response, status: int = 400) -> str:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["message"]
    return str(body["message"])


@pytest.mark.parametrize("name", ["batch.csv", "batch.parquet"])
def test_a_developer_sends_a_batch_file_and_it_is_received_once(watched: Watched, api, name: str) -> None:
    table = traffic(300, start=hour(1), seed=2)
    response = post_file(api(watched.flow.developer), watched, write(table, watched.folder, name))
    assert response.status_code == 201, response.content
    sent = response.json()
    assert (sent["kind"], sent["status"], sent["row_count"], sent["raw_kept"]) == ("predictions", "received", 300, True)
    again = post_file(api(watched.flow.developer), watched, write(table, watched.folder, name))
    assert again.status_code == 200, again.content
    assert again.json()["id"] == sent["id"]
    assert Batch.objects.filter(monitor=watched.monitor).count() == 1
    assert AuditEvent.objects.filter(action="monitoring.batch.received").count() == 1
    assert len(stored(watched)) == 1
    listed = api(watched.flow.owner).get(batches_url(watched)).json()["results"]
    assert [b["id"] for b in listed] == [sent["id"]]


def test_json_rows_are_a_batch_and_the_same_key_sent_again_is_the_same_batch(watched: Watched, api) -> None:
    rows = traffic(50, start=hour(2), seed=3).to_pylist()
    for row in rows:
        row["timestamp"] = row["timestamp"].isoformat()
    client = api(watched.flow.it_ops)
    body = {"kind": "predictions", "key": "serving-2026-12-07T10", "rows": rows}
    first = client.post(batches_url(watched), body, content_type="application/json")
    assert first.status_code == 201, first.content
    assert (first.json()["row_count"], first.json()["key"]) == (50, "serving-2026-12-07T10")
    second = client.post(batches_url(watched), body, content_type="application/json")
    assert (second.status_code, second.json()["id"]) == (200, first.json()["id"])
    rows[0]["f0"] = 99.0
    conflict = client.post(batches_url(watched), body, content_type="application/json")
    assert "other data" in refused(conflict, 409)
    assert Batch.objects.filter(monitor=watched.monitor).count() == 1


def test_the_idempotency_key_header_names_the_batch(watched: Watched, api) -> None:
    path = write(traffic(40, start=hour(3), seed=4), watched.folder, "b.csv")
    client = api(watched.flow.developer)
    with path.open("rb") as file:
        response = client.post(batches_url(watched), {"file": file}, headers={"Idempotency-Key": "run-17"})
    assert response.status_code == 201, response.content
    assert response.json()["key"] == "run-17"


def test_outcomes_arrive_as_a_batch_of_their_own(watched: Watched, api) -> None:
    table = traffic(100, start=hour(1), seed=5)
    client = api(watched.flow.developer)
    assert post_file(client, watched, write(table, watched.folder, "p.csv")).status_code == 201
    response = post_file(client, watched, write(outcomes_of(table, 5), watched.folder, "o.csv"), kind="outcomes")
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["row_count"]) == ("outcomes", 100)


def _csv(text: str, folder: Path, name: str = "hostile.csv", encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def _hostile_tables(folder: Path) -> dict[str, Path]:
    good = traffic(30, start=hour(1), seed=9)
    future = datetime.now(UTC) + timedelta(days=2)
    far_past = datetime.now(UTC) - timedelta(days=500)
    stamps = pa.array([future] * 30, pa.timestamp("us", tz="UTC"))
    old = pa.array([far_past] * 30, pa.timestamp("us", tz="UTC"))
    ids = pa.array(["same"] * 30)
    cases = {
        "missing_column": good.drop_columns(["f1"]),
        "extra_column": good.append_column("secret", pa.array(["x"] * 30)),
        "wrong_type": good.set_column(good.schema.get_field_index("f0"), "f0", pa.array(["high"] * 30)),
        "duplicate_ids": good.set_column(good.schema.get_field_index("prediction_id"), "prediction_id", ids),
        "future": good.set_column(good.schema.get_field_index("timestamp"), "timestamp", stamps),
        "far_past": good.set_column(good.schema.get_field_index("timestamp"), "timestamp", old),
    }
    return {name: write(table, folder, f"{name}.csv") for name, table in cases.items()}


HOSTILE = ["missing_column", "extra_column", "wrong_type", "duplicate_ids", "future", "far_past"]


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_batch_is_refused_with_its_reason_and_nothing_is_stored(watched: Watched, api, case: str) -> None:
    path = _hostile_tables(watched.folder)[case]
    message = refused(post_file(api(watched.flow.developer), watched, path))
    assert message.startswith("The request has invalid fields: file:"), message
    nothing_received(watched)


def test_a_million_columns_are_refused_from_the_header(watched: Watched, api) -> None:
    header = ",".join(f"c{i}" for i in range(1_000_000))
    message = refused(
        post_file(api(watched.flow.developer), watched, _csv(header + "\n" + "1," * 3 + "\n", watched.folder))
    )
    assert "column" in message
    nothing_received(watched)


def test_a_csv_that_is_not_utf8_is_refused(watched: Watched, api) -> None:
    text = traffic(5, start=hour(1), seed=1).to_pandas().to_csv(index=False).replace("north", "nörth")
    message = refused(post_file(api(watched.flow.developer), watched, _csv(text, watched.folder, encoding="latin-1")))
    assert "UTF-8" in message or "encod" in message.lower()
    nothing_received(watched)


def test_a_file_of_another_format_is_refused(watched: Watched, api) -> None:
    path = _csv("not,a,batch\n", watched.folder, "batch.txt")
    assert "CSV" in refused(post_file(api(watched.flow.developer), watched, path))
    nothing_received(watched)


@override_settings(SIGNET_MAX_UPLOAD_BYTES=2048)
def test_an_oversize_batch_is_refused_unread(watched: Watched, api) -> None:
    path = write(traffic(2000, start=hour(1), seed=1), watched.folder, "big.csv")
    assert "larger than the limit" in refused(post_file(api(watched.flow.developer), watched, path), 413)
    nothing_received(watched)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"rows": []}, "rows"),
        ({"rows": "a,b"}, "rows"),
        ({"rows": [1, 2]}, "rows"),
        ({"rows": [{"f0": {"nested": 1}}]}, "rows"),
        ({"rows": [{"f0": 1}, {"f0": "text"}]}, "rows"),
        ({"rows": [{"f0": 1}], "kind": "labels"}, "kind"),
        ({"rows": [{"f0": 1}], "key": 7}, "key"),
    ],
)
def test_json_rows_that_are_not_a_table_are_refused(watched: Watched, api, body: dict[str, Any], words: str) -> None:
    response = api(watched.flow.developer).post(batches_url(watched), body, content_type="application/json")
    assert words in refused(response)
    nothing_received(watched)


def test_an_outcomes_batch_with_other_columns_is_refused(watched: Watched, api) -> None:
    path = write(pa.table({"prediction_id": ["a"], "label": [1]}), watched.folder, "o.csv")
    refused(post_file(api(watched.flow.developer), watched, path, kind="outcomes"))
    nothing_received(watched)


@pytest.mark.parametrize("persona", ["business_owner", "validator", "compliance", "auditor"])
def test_only_owners_developers_and_it_operations_send_batches(watched: Watched, api, persona: str) -> None:
    path = write(traffic(10, start=hour(1), seed=1), watched.folder, "b.csv")
    assert refused(post_file(api(watched.flow.persona(persona)), watched, path), 403)
    nothing_received(watched)


def test_an_outsider_does_not_see_the_monitor(watched: Watched, api) -> None:
    path = write(traffic(10, start=hour(1), seed=1), watched.folder, "b.csv")
    refused(post_file(api(watched.flow.outsider), watched, path), 404)
    assert api(watched.flow.outsider).get(batches_url(watched)).status_code == 404
    nothing_received(watched)


def test_multipart_without_a_file_is_refused(watched: Watched, api) -> None:
    response = api(watched.flow.developer).post(batches_url(watched), {"kind": "predictions", "x": io.BytesIO(b"")})
    assert "file" in refused(response)
