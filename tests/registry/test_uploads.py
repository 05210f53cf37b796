"""Hostile uploads through the page and the API: a 4xx with a message, nothing stored, never a 500."""

from __future__ import annotations

import io
import pickle  # only to produce a pickle's bytes; nothing here ever loads one
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from apps.audit.models import AuditEvent
from apps.registry.models import DatasetVersion
from tests.conftest import Org, bearer
from tests.factories import csv_bytes

pytestmark = pytest.mark.django_db


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", "a,b\n1,2\n")
    return buffer.getvalue()


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"x": [1, 2, 3], "y": ["a", "b", "c"]}), buffer)
    return buffer.getvalue()


HOSTILE = [
    ("pickle named csv", "data.csv", pickle.dumps({"harmless": True}), "not"),
    ("zip named csv", "data.csv", _zip(), "not"),
    ("zip named parquet", "data.parquet", _zip(), "Parquet"),
    ("binary named csv", "data.csv", bytes(range(256)) * 4, "CSV"),
    ("invalid utf-8", "data.csv", b"a,b\n\xff\xfe,1\n", "UTF-8"),
    ("ragged csv", "data.csv", b"a,b\n1,2,3\n4\n", "could not be read"),
    ("truncated parquet", "data.parquet", _parquet()[:-40], "damaged"),
    ("wrong extension", "data.xlsx", b"a,b\n1,2\n", "Upload a CSV"),
    ("empty file", "data.csv", b"", "empty"),
]


def _media_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT) / "datasets"
    return set(root.glob("*")) if root.exists() else set()


@pytest.mark.parametrize(("label", "name", "content", "word"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_refused_on_the_page_with_a_message_and_nothing_kept(
    org: Org, label: str, name: str, content: bytes, word: str
) -> None:
    client = Client()
    client.force_login(org.developer)
    before = (_media_files(), AuditEvent.objects.count())
    response = client.post(f"/registry/datasets/{org.dataset.pk}/upload/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert word.lower() in response.content.decode().lower()
    assert not DatasetVersion.objects.exists()
    assert (_media_files(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(("label", "name", "content", "word"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_refused_by_the_api_in_the_error_shape(
    org: Org, token_for, label: str, name: str, content: bytes, word: str
) -> None:
    client = Client(headers=bearer(token_for(org.developer)))
    response = client.post(f"/api/v1/datasets/{org.dataset.pk}/versions/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert word.lower() in str(error["details"]["file"]).lower()
    assert not DatasetVersion.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.csv", "..\\..\\boot.ini.csv", "<script>x</script>.csv", "a" * 300 + ".csv", "nul\x00name.csv"],
)
def test_hostile_file_names_never_reach_the_disk_or_the_page_unescaped(org: Org, name: str) -> None:
    client = Client()
    client.force_login(org.developer)
    response = client.post(
        f"/registry/datasets/{org.dataset.pk}/upload/", {"file": SimpleUploadedFile(name, csv_bytes())}
    )
    assert response.status_code == 302
    version = DatasetVersion.objects.get()
    stored = Path(version.file.path)
    assert stored.parent == Path(settings.MEDIA_ROOT) / "datasets"
    assert stored.name.endswith(".csv")
    assert len(stored.stem) == 32  # a generated name
    assert "/" not in version.original_name
    assert "\\" not in version.original_name
    page = client.get(f"/registry/datasets/{org.dataset.pk}/").content.decode()
    assert "<script>x</script>" not in page


@override_settings(SIGNET_MAX_UPLOAD_BYTES=2048)
def test_an_oversize_upload_is_stopped_while_streaming_with_413(org: Org, token_for) -> None:
    big = b"a,b\n" + b"1,2\n" * 4000
    client = Client()
    client.force_login(org.developer)
    page = client.post(f"/registry/datasets/{org.dataset.pk}/upload/", {"file": SimpleUploadedFile("big.csv", big)})
    assert page.status_code == 413
    assert "larger than the limit" in page.content.decode()
    api = Client(headers=bearer(token_for(org.developer))).post(
        f"/api/v1/datasets/{org.dataset.pk}/versions/", {"file": SimpleUploadedFile("big.csv", big)}
    )
    assert api.status_code == 413
    assert api.json()["error"]["code"] == "too_large"
    assert not DatasetVersion.objects.exists()


def test_a_good_csv_and_parquet_are_stored_with_schema_rows_and_hash(org: Org) -> None:
    import hashlib

    client = Client()
    client.force_login(org.developer)
    for name, content in (("a.csv", csv_bytes(7)), ("b.parquet", _parquet())):
        assert (
            client.post(
                f"/registry/datasets/{org.dataset.pk}/upload/", {"file": SimpleUploadedFile(name, content)}
            ).status_code
            == 302
        )
    first, second = DatasetVersion.objects.order_by("number")
    assert (first.number, first.row_count, [c["name"] for c in first.columns]) == (1, 7, ["age", "income", "label"])
    assert first.sha256 == hashlib.sha256(csv_bytes(7)).hexdigest()
    assert (second.format, second.row_count) == ("parquet", 3)
    download = client.get(f"/registry/dataset-versions/{first.pk}/download/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == csv_bytes(7)  # type: ignore[attr-defined]


def test_the_api_refuses_a_multipart_post_without_a_file(org: Org, token_for) -> None:
    response = Client(headers=bearer(token_for(org.developer))).post(
        f"/api/v1/datasets/{org.dataset.pk}/versions/", {"other": "x"}
    )
    assert response.status_code == 400
    assert "file" in response.json()["error"]["details"]
