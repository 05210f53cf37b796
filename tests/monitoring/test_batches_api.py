"""Sending batches through the API: accepted once, and every hostile batch refused with its reason, nothing stored."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import pyarrow as pa
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import override_settings

from apps.audit.models import AuditEvent
from apps.monitoring import services
from apps.monitoring.models import Batch, PredictionId
from apps.monitoring.services import profiles
from tests.monitoring.conftest import Watched, hour, outcomes_of, traffic, write
from tests.workflows.conftest import Flow


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


def test_a_batch_repeating_ids_of_an_earlier_batch_is_refused_naming_them_and_the_batch(watched: Watched, api) -> None:
    client = api(watched.flow.developer)
    first = post_file(client, watched, write(traffic(100, start=hour(2), seed=2), watched.folder, "a.csv"))
    assert first.status_code == 201, first.content
    overlapping = traffic(100, start=hour(1), seed=3, first_id=90)  # p-90 ... p-99 were counted in the first
    message = refused(post_file(client, watched, write(overlapping, watched.folder, "b.parquet")))
    assert "10 prediction ids of this batch were counted before in batch" in message, message
    assert f"'p-90' (batch {first.json()['id']})" in message, message
    assert Batch.objects.filter(monitor=watched.monitor).count() == 1
    assert AuditEvent.objects.filter(action="monitoring.batch.received").count() == 1
    assert len(stored(watched)) == 1
    fresh = post_file(
        client, watched, write(traffic(100, start=hour(1), seed=3, first_id=100), watched.folder, "c.csv")
    )
    assert fresh.status_code == 201, fresh.content


def test_the_same_batch_sent_again_is_still_the_first_one_not_a_repeat_of_its_ids(watched: Watched, api) -> None:
    rows = traffic(30, start=hour(2), seed=6).to_pylist()
    for row in rows:
        row["timestamp"] = row["timestamp"].isoformat()
    client = api(watched.flow.it_ops)
    first = client.post(batches_url(watched), {"key": "k-1", "rows": rows}, content_type="application/json")
    assert first.status_code == 201, first.content
    by_key = client.post(batches_url(watched), {"key": "k-1", "rows": rows}, content_type="application/json")
    by_content = client.post(batches_url(watched), {"rows": rows}, content_type="application/json")
    assert (by_key.status_code, by_key.json()["id"]) == (200, first.json()["id"])
    assert (by_content.status_code, by_content.json()["id"]) == (200, first.json()["id"])
    rows[0]["f0"] = 42.0  # the same ids with other values, under a new key: a repeat of counted ids
    repeat = client.post(batches_url(watched), {"key": "k-2", "rows": rows}, content_type="application/json")
    assert refused(repeat).startswith("The request has invalid fields: rows: 30 prediction ids")


def test_integer_and_text_ids_are_one_id_and_outcomes_may_name_ids_again(watched: Watched) -> None:
    table = traffic(20, start=hour(2), seed=7)
    as_ints = table.set_column(
        table.schema.get_field_index("prediction_id"), "prediction_id", pa.array(range(20), pa.int64())
    )
    watched.send(as_ints, "ints.parquet")
    as_text = table.set_column(
        table.schema.get_field_index("prediction_id"), "prediction_id", pa.array([str(i) for i in range(19, 39)])
    )
    with pytest.raises(ValidationError, match="1 prediction id of this batch was counted before in batch"):
        watched.send(as_text, "text.parquet")
    labels = pa.table({"prediction_id": list(range(20)), "y_true": [1] * 20})
    watched.send(labels, "o1.parquet", kind="outcomes")
    _again, new = watched.send(labels.set_column(1, "y_true", pa.array([0] * 20)), "o2.parquet", kind="outcomes")
    assert new


def test_a_quarantined_batch_gives_its_ids_back(watched: Watched) -> None:
    table = traffic(20, start=hour(2), seed=8)
    batch, _new = watched.send(table, "a.parquet")
    claimed = services.batch_claim(batch.pk, "test")
    assert claimed is not None
    profiles._quarantine(claimed, "The stored file could not be read.")
    assert not PredictionId.objects.filter(batch_id=batch.pk).exists()
    _second, new = watched.send(
        table.set_column(table.schema.get_field_index("f0"), "f0", pa.array([1.5] * 20)), "b.parquet"
    )
    assert new


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_batches_sharing_ids_count_them_once(transactional_db: None, tmp_path: Path) -> None:
    """Both pass the check before either is recorded (the batch table is locked meanwhile); the index decides."""
    watched = Watched(Flow("low"), tmp_path)
    paths = [
        write(traffic(5000, start=hour(2), seed=11, first_id=0), tmp_path, "a.parquet"),
        write(traffic(5000, start=hour(1), seed=12, first_id=4000), tmp_path, "b.csv"),
    ]
    outcomes: list[object] = []

    def send(path: Path) -> None:
        try:
            outcomes.append(
                services.batch_receive(
                    actor=watched.flow.developer,
                    monitor=watched.monitor,
                    kind="predictions",
                    path=path,
                    original_name=path.name,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            outcomes.append(exc)
        finally:
            connections.close_all()

    db = connection.settings_dict
    raw = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"])
    try:
        cursor = raw.cursor()
        cursor.execute(f"LOCK TABLE {Batch._meta.db_table} IN EXCLUSIVE MODE")  # reads pass, the INSERT waits
        threads = [threading.Thread(target=send, args=(path,)) for path in paths]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while True:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone() == (2,):
                break
            assert time.monotonic() < deadline, outcomes
            assert all(t.is_alive() for t in threads), outcomes
            time.sleep(0.05)
        raw.commit()
    finally:
        raw.close()
    for thread in threads:
        thread.join(timeout=60)
    refusals = [o for o in outcomes if isinstance(o, BaseException)]
    accepted = [o for o in outcomes if not isinstance(o, BaseException)]
    assert (len(accepted), len(refusals)) == (1, 1), outcomes
    assert isinstance(refusals[0], ValidationError), refusals
    assert "1,000 prediction ids of this batch were counted before" in str(refusals[0]), refusals
    assert accepted[0] == (Batch.objects.get(monitor=watched.monitor), True)
    assert Batch.objects.filter(monitor=watched.monitor).count() == 1
    assert PredictionId.objects.filter(monitor=watched.monitor).count() == 5000
    assert AuditEvent.objects.filter(action="monitoring.batch.received").count() == 1
    assert len(stored(watched)) == 1


def test_ids_of_a_batch_past_its_retention_are_forgotten_with_its_raw_file(watched: Watched) -> None:
    table = traffic(20, start=hour(2), seed=10)
    batch, _new = watched.send(table, "old.parquet")
    Batch.objects.filter(pk=batch.pk).update(received_at=batch.received_at - timedelta(days=91))
    assert services.batches_expire() == 1
    assert not PredictionId.objects.filter(batch_id=batch.pk).exists()
    _again, new = watched.send(table.set_column(table.schema.get_field_index("f0"), "f0", pa.array([0.5] * 20)))
    assert new
