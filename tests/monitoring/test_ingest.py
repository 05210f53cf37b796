"""Batches read from a monitor's source on a schedule: real files in a temporary folder, every hostile case."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.monitoring import services
from apps.monitoring.models import Batch, Monitor, SourceFile
from apps.monitoring.services import ingest, sources
from apps.projects import services as project_services
from apps.projects.models import Membership
from tests.core.test_settings import PRODUCTION, _boot
from tests.monitoring.conftest import Watched, hour, outcomes_of, traffic, write


@pytest.fixture
def roots(watched: Watched, tmp_path: Path, settings) -> Path:
    """The project's folder under the one ingest root (its files settle at once), and a secret folder outside it."""
    allowed = tmp_path / "feeds" / slug(watched)
    (allowed / "fraud" / "predictions").mkdir(parents=True)
    (allowed / "fraud" / "outcomes").mkdir()
    (tmp_path / "secret").mkdir()
    settings.SIGNET_MONITORING_INGEST_ROOTS = [str(allowed.parent)]
    settings.SIGNET_MONITORING_INGEST_SETTLE_SECONDS = 0
    return allowed


def slug(watched: Watched) -> str:
    return watched.monitor.version.model.project.slug


@pytest.fixture
def fed(watched: Watched, roots: Path) -> Watched:
    services.monitor_source_set(actor=watched.flow.developer, monitor=watched.monitor, source=str(roots / "fraud"))
    watched.monitor.refresh_from_db()
    return watched


def folder(watched: Watched) -> Path:
    return Path(watched.monitor.source)


def read(watched: Watched) -> str:
    return services.monitor_ingest(watched.monitor.pk)


def files(watched: Watched) -> dict[str, SourceFile]:
    return {Path(row.location).name: row for row in SourceFile.objects.filter(monitor=watched.monitor)}


def refused_events(watched: Watched) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="monitoring.source_file.refused").order_by("seq"))


def source_url(watched: Watched) -> str:
    return f"/api/v1/monitors/{watched.monitor.pk}/"


# --- setting the source -----------------------------------------------------------------------


def test_a_developer_sets_a_folder_inside_the_roots_through_the_api_and_it_is_audited(
    watched: Watched, roots: Path, api
) -> None:
    response = api(watched.flow.developer).patch(
        source_url(watched), {"source": str(roots / "fraud" / "predictions" / "..")}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["source"] == str((roots / "fraud").resolve())  # '..' resolved
    event = AuditEvent.objects.get(action="monitoring.monitor.source_set")
    assert event.actor_id == watched.flow.developer.pk
    assert event.changes == {
        "source": {"before": "", "after": str((roots / "fraud").resolve())},
        "source_set_by": {"before": None, "after": watched.flow.developer.pk},
    }


@pytest.mark.parametrize("case", ["outside", "dotdot", "symlink", "relative", "missing", "storage"])
def test_a_source_outside_the_roots_is_refused_and_nothing_changes(
    watched: Watched, roots: Path, tmp_path: Path, api, case: str
) -> None:
    link = roots / "escape"
    link.symlink_to(tmp_path / "secret")
    source = {
        "outside": str(tmp_path / "secret"),
        "dotdot": str(roots / ".." / "secret"),
        "symlink": str(link),
        "relative": "feeds/fraud",
        "missing": str(roots / "nowhere"),
        "storage": "storage://inbox",
    }[case]
    response = api(watched.flow.developer).patch(
        source_url(watched), {"source": source}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["message"].startswith("The request has invalid fields: source:")
    assert Monitor.objects.get(pk=watched.monitor.pk).source == ""
    assert not AuditEvent.objects.filter(action="monitoring.monitor.source_set").exists()


@pytest.mark.parametrize("persona", ["business_owner", "validator", "auditor"])
def test_only_owners_developers_and_it_operations_set_a_source(
    watched: Watched, roots: Path, api, persona: str
) -> None:
    response = api(watched.flow.persona(persona)).patch(
        source_url(watched), {"source": str(roots / "fraud")}, content_type="application/json"
    )
    assert response.status_code == 403, response.content
    assert (
        api(watched.flow.outsider)
        .patch(source_url(watched), {"source": ""}, content_type="application/json")
        .status_code
        == 404
    )
    assert Monitor.objects.get(pk=watched.monitor.pk).source == ""


def test_a_monitor_may_be_set_up_with_its_source(watched: Watched, roots: Path) -> None:
    monitor = services.monitor_create(
        actor=watched.flow.it_ops, deployment=watched.deployment, name="second", reference=watched.reference,
        spec=watched.monitor.spec, source=str(roots / "fraud"),
    )  # fmt: skip
    assert (monitor.source, monitor.source_set_by) == (str((roots / "fraud").resolve()), watched.flow.it_ops)
    created = AuditEvent.objects.filter(action="monitoring.monitor.created", target_id=str(monitor.pk)).get()
    assert created.changes["source"]["after"] == monitor.source
    with pytest.raises(ValidationError, match="outside the folders"):
        services.monitor_create(
            actor=watched.flow.it_ops, deployment=watched.deployment, name="third", reference=watched.reference,
            spec=watched.monitor.spec, source="/etc",
        )  # fmt: skip


# --- reading it -------------------------------------------------------------------------------


def test_new_files_become_batches_once_and_a_copy_under_another_name_is_the_same_batch(fed: Watched) -> None:
    table = traffic(200, start=hour(2), seed=2)
    write(table, folder(fed) / "predictions", "2026-12-07T10.csv")
    write(outcomes_of(table, 2), folder(fed) / "outcomes", "2026-12-07T10.parquet")
    (folder(fed) / "predictions" / ".partial.csv").write_text("half a file")  # hidden: not read
    (folder(fed) / "predictions" / "notes.txt").write_text("not a batch")  # another extension: not read
    assert read(fed) == "read 2 files: 2 received, 0 refused"
    batches = {b.kind: b for b in Batch.objects.filter(monitor=fed.monitor)}
    assert set(batches) == {"predictions", "outcomes"}
    predictions = batches["predictions"]
    assert predictions.key == f"{folder(fed) / 'predictions' / '2026-12-07T10.csv'}@{predictions.sha256}"
    assert (predictions.received_by, predictions.row_count) == (fed.flow.developer, 200)
    event = AuditEvent.objects.get(action="monitoring.batch.received", target_id=str(predictions.pk))
    assert (event.actor_id, event.actor_name) == (None, "monitoring")
    assert event.data["source"] == fed.monitor.source
    assert read(fed) == "read 0 files: 0 received, 0 refused"
    (folder(fed) / "predictions" / "again.csv").write_bytes(
        (folder(fed) / "predictions" / "2026-12-07T10.csv").read_bytes()
    )
    assert read(fed) == "read 1 files: 1 received, 0 refused"
    assert Batch.objects.filter(monitor=fed.monitor).count() == 2
    assert files(fed)["again.csv"].batch_id == predictions.pk
    assert AuditEvent.objects.filter(action="monitoring.batch.received").count() == 2


def test_a_file_still_being_written_waits_for_the_next_reading(fed: Watched, settings) -> None:
    settings.SIGNET_MONITORING_INGEST_SETTLE_SECONDS = 3600
    write(traffic(20, start=hour(2), seed=2), folder(fed) / "predictions", "now.csv")
    assert read(fed) == "read 0 files: 0 received, 0 refused"
    assert not SourceFile.objects.exists()


def _hostile(fed: Watched, tmp_path: Path) -> dict[str, str]:
    """Each hostile file of the predictions folder, and words its reason must hold."""
    predictions = folder(fed) / "predictions"
    (tmp_path / "secret" / "salaries.csv").write_text("name,salary\nalice,1\n")
    (predictions / "escape.csv").symlink_to(tmp_path / "secret" / "salaries.csv")
    (predictions / "dangling.csv").symlink_to(predictions / "gone.csv")
    os.mkfifo(predictions / "pipe.csv")
    (predictions / "disguised.parquet").write_text("prediction_id,timestamp\n1,2026-12-07T10:00:00Z\n")
    (predictions / "wide.csv").write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n" + "1," * 3 + "\n")
    good = traffic(30, start=hour(2), seed=3)
    write(good.drop_columns(["f1"]), predictions, "columns.csv")
    return {
        "escape.csv": "links outside the folders this project's monitors may read",
        "dangling.csv": "cannot be read",
        "pipe.csv": "not a regular file",
        "disguised.parquet": "Parquet",
        "wide.csv": "column",
        "columns.csv": "lacks 'f1'",
    }


def test_hostile_files_are_refused_with_their_reason_audited_and_not_read_again_until_they_change(
    fed: Watched, tmp_path: Path, api
) -> None:
    expected = _hostile(fed, tmp_path)
    assert read(fed) == f"read {len(expected)} files: 0 received, {len(expected)} refused"
    found = files(fed)
    assert set(found) == set(expected)
    for name, words in expected.items():
        assert (found[name].status, found[name].batch_id) == ("refused", None), name
        assert words in found[name].reason, (name, found[name].reason)
    assert not Batch.objects.filter(monitor=fed.monitor).exists()
    events = refused_events(fed)
    assert len(events) == len(expected)
    assert all((e.actor_id, e.actor_name) == (None, "monitoring") for e in events)
    assert "alice" not in " ".join(str(e.data) for e in events)  # the escaped file was never read
    assert found["escape.csv"].size == (folder(fed) / "predictions" / "escape.csv").lstat().st_size  # the link's own
    listed = api(fed.flow.business_owner).get(f"/api/v1/monitors/{fed.monitor.pk}/source-files/").json()["results"]
    assert {Path(item["location"]).name: item["reason"] for item in listed} == {n: r.reason for n, r in found.items()}

    assert read(fed) == "read 0 files: 0 received, 0 refused"  # unchanged: not read again
    assert len(refused_events(fed)) == len(expected)
    columns = folder(fed) / "predictions" / "columns.csv"
    write(traffic(30, start=hour(2), seed=3), columns.parent, columns.name)  # corrected in place
    assert read(fed) == "read 1 files: 1 received, 0 refused"
    assert files(fed)["columns.csv"].status == "received"
    assert files(fed)["columns.csv"].reason == ""


def test_a_file_over_the_size_limit_is_refused_unread(fed: Watched, settings) -> None:
    settings.SIGNET_MAX_UPLOAD_BYTES = 2048
    write(traffic(2000, start=hour(2), seed=4), folder(fed) / "predictions", "big.csv")
    assert read(fed) == "read 1 files: 0 received, 1 refused"
    assert "larger than the limit of 2,048 bytes" in files(fed)["big.csv"].reason


def test_a_file_repeating_counted_ids_is_refused_naming_the_batch(fed: Watched) -> None:
    first, _new = fed.send(traffic(50, start=hour(3), seed=5), "api.parquet")
    write(traffic(50, start=hour(2), seed=6, first_id=40), folder(fed) / "predictions", "overlap.parquet")
    assert read(fed) == "read 1 files: 0 received, 1 refused"
    assert f"counted before in batch {first.pk}" in files(fed)["overlap.parquet"].reason


def test_a_source_that_leaves_the_roots_stops_being_read_and_says_so(fed: Watched, settings, tmp_path: Path) -> None:
    write(traffic(20, start=hour(2), seed=7), folder(fed) / "predictions", "a.csv")
    settings.SIGNET_MONITORING_INGEST_ROOTS = [str(tmp_path / "elsewhere")]
    assert read(fed).startswith("source unreadable:")
    monitor = Monitor.objects.get(pk=fed.monitor.pk)
    assert "outside the folders this project's monitors may read" in monitor.source_error
    assert (monitor.source_scanned_at is not None, monitor.source_lease_until) == (True, None)
    assert not Batch.objects.exists()
    read(fed)  # still unreadable: told once
    assert AuditEvent.objects.filter(action="monitoring.monitor.source_unreadable").count() == 1
    settings.SIGNET_MONITORING_INGEST_ROOTS = [str(folder(fed).parent.parent)]
    assert read(fed) == "read 1 files: 1 received, 0 refused"
    assert Monitor.objects.get(pk=fed.monitor.pk).source_error == ""
    assert AuditEvent.objects.filter(action="monitoring.monitor.source_readable").count() == 1


def test_a_reading_holding_the_lease_keeps_another_out(fed: Watched) -> None:
    Monitor.objects.filter(pk=fed.monitor.pk).update(source_lease_until=timezone.now() + timedelta(minutes=5))
    assert read(fed).startswith("not read")
    assert services.monitors_ingest_due() == 0


def test_a_storage_location_is_read_like_a_folder(watched: Watched, tmp_path: Path, settings) -> None:
    location = tmp_path / "bucket"
    project = location / "inbox" / slug(watched)
    (project / "fraud" / "predictions").mkdir(parents=True)
    (location / "inbox" / "other-project" / "fraud").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "x.csv").write_text("a\n1\n")
    (project / "fraud" / "predictions" / "link.csv").symlink_to(tmp_path / "secret" / "x.csv")
    write(traffic(40, start=hour(2), seed=8), project / "fraud" / "predictions", "a.parquet")
    (location / "inbox" / "other-project" / "fraud" / "theirs.csv").write_text("name,salary\nalice,1\n")
    os.link(
        location / "inbox" / "other-project" / "fraud" / "theirs.csv", project / "fraud" / "predictions" / "hard.csv"
    )
    storages = {
        **settings.STORAGES,
        "monitoring_ingest": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    settings.SIGNET_MONITORING_INGEST_SETTLE_SECONDS = 0
    with override_settings(STORAGES=storages, SIGNET_MONITORING_INGEST_ROOTS=["storage://inbox"]):
        hostiles = ("storage://inbox/../secret", "storage://other", "storage://inbox/a\\b", "storage://inbox",
                    "storage://inbox/other-project/fraud", f"storage://inbox/{slug(watched)}/../other")  # fmt: skip
        for hostile in hostiles:
            with pytest.raises(ValidationError):
                services.monitor_source_set(actor=watched.flow.developer, monitor=watched.monitor, source=hostile)
        services.monitor_source_set(
            actor=watched.flow.developer, monitor=watched.monitor, source=f"storage://inbox//{slug(watched)}/fraud/"
        )
        assert Monitor.objects.get(pk=watched.monitor.pk).source == f"storage://inbox/{slug(watched)}/fraud"
        assert read(watched) == "read 3 files: 1 received, 2 refused"
    found = files(watched)
    assert "other hard links" in found["hard.csv"].reason
    assert found["a.parquet"].status == "received"
    assert found["a.parquet"].location == f"storage://inbox/{slug(watched)}/fraud/predictions/a.parquet"
    assert "links outside the ingest storage" in found["link.csv"].reason
    assert found["link.csv"].size == -1


def test_without_an_ingest_storage_a_storage_source_is_refused(watched: Watched, settings) -> None:
    settings.SIGNET_MONITORING_INGEST_ROOTS = ["storage://"]
    with pytest.raises(ValidationError, match="No ingest storage is configured"):
        services.monitor_source_set(
            actor=watched.flow.developer, monitor=watched.monitor, source=f"storage://{slug(watched)}"
        )


# --- asking for a reading ---------------------------------------------------------------------


def test_a_reading_asked_for_through_the_api_is_audited_and_governed(fed: Watched, api) -> None:
    url = f"/api/v1/monitors/{fed.monitor.pk}/ingest/"
    assert api(fed.flow.it_ops).post(url).status_code == 202
    assert AuditEvent.objects.filter(action="monitoring.monitor.ingest_requested").count() == 1
    assert api(fed.flow.business_owner).post(url).status_code == 403
    assert api(fed.flow.outsider).post(url).status_code == 404
    services.monitor_source_set(actor=fed.flow.owner, monitor=fed.monitor, source="")
    response = api(fed.flow.it_ops).post(url)
    assert response.status_code == 400
    assert "no source" in response.json()["error"]["message"]
    assert AuditEvent.objects.filter(action="monitoring.monitor.ingest_requested").count() == 1


def test_a_person_asking_for_a_reading_must_be_allowed_to_feed(fed: Watched) -> None:
    with pytest.raises(PermissionDenied):
        services.monitor_ingest_request(actor=fed.flow.validator, monitor=fed.monitor)


def test_outcomes_of_a_folder_label_its_predictions(fed: Watched) -> None:
    table = traffic(60, start=hour(2), seed=9)
    write(table, folder(fed) / "predictions", "p.parquet")
    write(outcomes_of(table, 9), folder(fed) / "outcomes", "o.csv")
    write(pa.table({"prediction_id": ["x"], "label": [1]}), folder(fed) / "outcomes", "bad.csv")
    assert read(fed) == "read 3 files: 2 received, 1 refused"
    assert files(fed)["o.csv"].kind == "outcomes"
    assert "does not have the columns" in files(fed)["bad.csv"].reason


# --- settings ---------------------------------------------------------------------------------


def test_the_ingest_storage_and_its_options_come_from_the_environment() -> None:
    backend = {"MONITORING_INGEST_STORAGE_BACKEND": "django.core.files.storage.FileSystemStorage"}
    bad = _boot(dict(PRODUCTION, **backend, MONITORING_INGEST_STORAGE_OPTIONS="[1, 2]"), "check")
    assert bad.returncode != 0
    assert "MONITORING_INGEST_STORAGE_OPTIONS must be a JSON object" in bad.stderr
    script = "from django.conf import settings; print(settings.STORAGES['monitoring_ingest']['OPTIONS']['location'])"
    good = _boot(
        dict(PRODUCTION, **backend, MONITORING_INGEST_STORAGE_OPTIONS='{"location": "/srv/in"}'), "shell", "-c", script
    )
    assert good.stdout.splitlines()[-1] == "/srv/in", (good.stdout, good.stderr)


def test_a_kind_folder_linking_outside_the_roots_is_not_listed(fed: Watched, tmp_path: Path) -> None:
    (tmp_path / "secret" / "payroll-2026.csv").write_text("name,salary\n")
    (folder(fed) / "outcomes").rmdir()
    (folder(fed) / "outcomes").symlink_to(tmp_path / "secret")
    assert read(fed).startswith("source unreadable:")
    assert (
        "links outside the folders this project's monitors may read"
        in Monitor.objects.get(pk=fed.monitor.pk).source_error
    )
    assert not SourceFile.objects.exists()
    assert "payroll" not in str(list(AuditEvent.objects.values_list("data", flat=True)))


def test_ingest_roots_other_than_absolute_folders_or_storage_locations_stop_start_up() -> None:
    result = _boot(dict(PRODUCTION, MONITORING_INGEST_ROOTS="/srv/feeds,feeds/relative"), "check")
    assert result.returncode != 0
    assert "MONITORING_INGEST_ROOTS holds absolute folders" in result.stderr


# --- one folder per project -------------------------------------------------------------------


def test_a_source_must_lie_in_its_projects_folder_and_the_message_names_it_not_the_roots(
    watched: Watched, roots: Path, tmp_path: Path, settings, api
) -> None:
    settings.SIGNET_MONITORING_INGEST_ROOTS = [*settings.SIGNET_MONITORING_INGEST_ROOTS, str(tmp_path / "hidden-root")]
    other = roots.parent / "another-project" / "fraud"
    (other / "predictions").mkdir(parents=True)
    (roots / "theirs").symlink_to(other)
    for source in (str(other), str(roots / ".." / "another-project" / "fraud"), str(roots / "theirs"),
                   str(roots.parent)):  # fmt: skip
        response = api(watched.flow.developer).patch(
            source_url(watched), {"source": source}, content_type="application/json"
        )
        assert response.status_code == 400, (source, response.content)
        message = response.json()["error"]["message"]
        assert f"<ingest root>/{slug(watched)}/" in message, message
        assert "hidden-root" not in message, message
    assert Monitor.objects.get(pk=watched.monitor.pk).source == ""
    assert not AuditEvent.objects.filter(action="monitoring.monitor.source_set").exists()


def test_a_project_folder_linked_to_another_projects_is_not_read(fed: Watched, tmp_path: Path) -> None:
    other = tmp_path / "feeds" / "another-project" / "fraud"
    (other / "predictions").mkdir(parents=True)
    write(traffic(20, start=hour(2), seed=11), other / "predictions", "theirs.csv")
    project = tmp_path / "feeds" / slug(fed)
    project.rename(tmp_path / "moved")
    project.symlink_to(tmp_path / "feeds" / "another-project")  # the project's folder now leads to B's
    assert read(fed).startswith("source unreadable:")
    assert "outside the folders this project's monitors may read" in Monitor.objects.get(pk=fed.monitor.pk).source_error
    assert not SourceFile.objects.exists()
    assert not Batch.objects.exists()
    assert "theirs" not in str(list(AuditEvent.objects.values_list("data", flat=True)))


# --- a file swapped or linked after its path was judged ---------------------------------------


def test_a_folder_swapped_for_a_link_after_the_check_is_refused_once_open(
    fed: Watched, tmp_path: Path, monkeypatch
) -> None:
    other = tmp_path / "feeds" / "another-project" / "predictions"
    other.mkdir(parents=True)
    (other / "a.csv").write_text("name,salary\nalice,1\n")
    predictions = folder(fed) / "predictions"
    write(traffic(20, start=hour(2), seed=12), predictions, "a.csv")
    entry = next(sources.entries(fed.monitor.source, slug(fed)))
    judge = os.path.realpath

    def racing(path: object, *args: object, **kwargs: object) -> str:
        answer = judge(path, *args, **kwargs)  # type: ignore[call-overload]
        if str(path) == entry.location and predictions.is_dir() and not predictions.is_symlink():
            predictions.rename(tmp_path / "kept")  # the swap lands right after the path was judged
            predictions.symlink_to(other)
        return str(answer)

    monkeypatch.setattr(sources.os.path, "realpath", racing)
    with pytest.raises(sources.Unreadable, match="outside the folders this project's monitors may read"):
        sources.copy_to(entry, tmp_path / "copy.csv", 10_000, slug(fed))
    assert predictions.is_symlink()  # the swap did happen before the file was opened
    assert not (tmp_path / "copy.csv").exists()


def test_a_hard_link_to_another_projects_file_is_refused(fed: Watched, tmp_path: Path) -> None:
    other = tmp_path / "feeds" / "another-project" / "fraud" / "predictions"
    other.mkdir(parents=True)
    (other / "salaries.csv").write_text("name,salary\nalice,1\n")
    os.link(other / "salaries.csv", folder(fed) / "predictions" / "linked.csv")
    assert read(fed) == "read 1 files: 0 received, 1 refused"
    assert "other hard links" in files(fed)["linked.csv"].reason
    assert "alice" not in str(list(AuditEvent.objects.values_list("data", flat=True)))


# --- one failing file, long sources -----------------------------------------------------------


def test_a_file_failing_otherwise_is_logged_skipped_and_read_at_the_next_reading(
    fed: Watched, monkeypatch, caplog
) -> None:
    write(traffic(20, start=hour(2), seed=13), folder(fed) / "predictions", "a.csv")
    write(traffic(20, start=hour(3), seed=14, first_id=100), folder(fed) / "predictions", "b.csv")
    copy_to = sources.copy_to

    def failing(entry: sources.Entry, *args: object) -> str:
        if entry.name == "a.csv":
            raise RuntimeError("the disk went away for a moment")
        return copy_to(entry, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sources, "copy_to", failing)
    assert read(fed) == "read 2 files: 1 received, 0 refused, 1 failed"
    assert set(files(fed)) == {"b.csv"}  # not recorded: nothing says it is refused
    assert not refused_events(fed)
    assert "a.csv failed; it is tried again at the next reading" in caplog.text
    assert "the disk went away" in caplog.text
    assert Monitor.objects.get(pk=fed.monitor.pk).source_lease_until is None
    monkeypatch.setattr(sources, "copy_to", copy_to)
    assert read(fed) == "read 1 files: 1 received, 0 refused"
    assert files(fed)["a.csv"].status == "received"


def test_a_reading_that_lost_its_lease_stops_and_leaves_the_new_holders_lease_alone(
    fed: Watched, monkeypatch, caplog
) -> None:
    write(traffic(20, start=hour(2), seed=13), folder(fed) / "predictions", "a.csv")
    write(traffic(20, start=hour(3), seed=14, first_id=100), folder(fed) / "predictions", "b.csv")
    copy_to = sources.copy_to
    theirs = timezone.now() + timedelta(minutes=30)

    def then_another_reading_takes_over(entry: sources.Entry, *args: object) -> str:
        # This reading outlived its lease while copying a.csv, and another reading claimed the source.
        Monitor.objects.filter(pk=fed.monitor.pk).update(source_lease_until=theirs)
        return copy_to(entry, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sources, "copy_to", then_another_reading_takes_over)
    assert read(fed) == "read 1 files: 1 received, 0 refused"  # a.csv, then it stops before b.csv
    assert set(files(fed)) == {"a.csv"}
    assert "lost its lease" in caplog.text
    assert Monitor.objects.get(pk=fed.monitor.pk).source_lease_until == theirs  # the other's, untouched


def test_a_source_too_long_for_its_files_locations_is_refused(watched: Watched, roots: Path) -> None:
    longest = sources.MAX_SOURCE + len("/predictions/") + 255
    assert (SourceFile._meta.get_field("location").max_length or 0) >= longest
    source = str(roots / "fraud") + "/" + "x" * (sources.MAX_SOURCE - len(str(roots / "fraud")))
    with pytest.raises(ValidationError, match=f"at most {sources.MAX_SOURCE} characters"):
        services.monitor_source_set(actor=watched.flow.developer, monitor=watched.monitor, source=source)
    assert Monitor.objects.get(pk=watched.monitor.pk).source == ""


# --- the setter's roles, asked again at each reading ------------------------------------------


@pytest.mark.parametrize("how", ["removed", "inactive"])
def test_a_source_whose_setter_may_no_longer_feed_is_not_read(fed: Watched, how: str) -> None:
    write(traffic(20, start=hour(2), seed=15), folder(fed) / "predictions", "a.csv")
    developer = fed.flow.developer
    project = fed.monitor.version.model.project
    if how == "removed":
        membership = Membership.objects.get(project=project, user=developer)
        project_services.membership_remove(actor=fed.flow.owner, membership=membership)
    else:
        type(developer).objects.filter(pk=developer.pk).update(is_active=False)
    assert read(fed).startswith("source unreadable:")
    monitor = Monitor.objects.get(pk=fed.monitor.pk)
    assert "may no longer feed" in monitor.source_error
    assert (monitor.source_scanned_at is not None, monitor.source_lease_until) == (True, None)
    assert not Batch.objects.exists()
    assert not SourceFile.objects.exists()
    event = AuditEvent.objects.get(action="monitoring.monitor.source_unreadable")
    assert "may no longer feed" in event.data["reason"]
    read(fed)  # still so: told once
    assert AuditEvent.objects.filter(action="monitoring.monitor.source_unreadable").count() == 1
    services.monitor_source_set(actor=fed.flow.owner, monitor=fed.monitor, source=str(folder(fed)))  # takes it over
    assert Monitor.objects.get(pk=fed.monitor.pk).source_set_by == fed.flow.owner
    assert read(fed) == "read 1 files: 1 received, 0 refused"


def test_a_paused_monitor_or_a_changed_source_stops_a_reading(fed: Watched) -> None:
    monitor = Monitor.objects.select_related("version__model__project", "source_set_by").get(pk=fed.monitor.pk)
    lease = ingest.Lease(monitor.pk, timezone.now() + ingest.LEASE)
    Monitor.objects.filter(pk=monitor.pk).update(source=monitor.source + "/predictions")
    assert ingest._read(monitor, lease).startswith("not read")
    Monitor.objects.filter(pk=monitor.pk).update(source=monitor.source, status="paused")
    assert ingest._read(monitor, lease).startswith("not read")
    assert not SourceFile.objects.exists()


# --- a reading already under way --------------------------------------------------------------


def test_asking_for_a_reading_while_one_holds_the_lease_is_a_conflict(fed: Watched, api) -> None:
    Monitor.objects.filter(pk=fed.monitor.pk).update(source_lease_until=timezone.now() + timedelta(minutes=5))
    response = api(fed.flow.it_ops).post(f"/api/v1/monitors/{fed.monitor.pk}/ingest/")
    assert response.status_code == 409, response.content
    assert "under way" in response.json()["error"]["message"]
    assert not AuditEvent.objects.filter(action="monitoring.monitor.ingest_requested").exists()
    Monitor.objects.filter(pk=fed.monitor.pk).update(source_lease_until=timezone.now() - timedelta(minutes=1))
    assert api(fed.flow.it_ops).post(f"/api/v1/monitors/{fed.monitor.pk}/ingest/").status_code == 202
