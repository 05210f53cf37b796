"""apps.core.bulk: COPY stores exactly what bulk_create stores, and the bridge's imports go through it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict

from apps.accounts.choices import TeamFunction
from apps.audit.models import AuditEvent
from apps.audit.services import changes_between, snapshot
from apps.core import bulk
from apps.registry.models import ModelCard, ModelVersion, RegisteredModel
from apps.registry.services import imports
from apps.registry.services.common import VERSION_FIELDS
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db

AWKWARD = 'a,b;"quoted" \\N back\\slash\ttab\nnew line\r\n\\. é 中 ☃'


def _versions(model: RegisteredModel, first: int, builder: Any) -> list[ModelVersion]:
    return bulk.unsaved(
        ModelVersion,
        [
            {"model": model, "number": first, "created_by": builder, "description": AWKWARD, "framework": "\\N"},
            {
                "model": model,
                "number": first + 1,
                "created_by": builder,
                "metrics": {"auc": 0.91, AWKWARD: [1, None, True, {"x": AWKWARD}], "big": 1e16},
                "artifact_uri": "s3://bucket/path with space/ünï",
                "created_at": datetime(2026, 12, 7, 23, 0, 0, 123456, tzinfo=UTC),
            },
            {"model": model, "number": first + 2, "created_by": builder},  # every default
        ],
    )


def _stored(pks: list[int]) -> list[dict[str, Any]]:
    fields = [f.name for f in ModelVersion._meta.concrete_fields if f.name != "id"]
    return [
        model_to_dict(v, fields=fields) | {"created_at": v.created_at}
        for v in ModelVersion.objects.filter(pk__in=pks).order_by("number")
    ]


@pytest.fixture
def model() -> RegisteredModel:
    owner = make_user("bulkowner", TeamFunction.DATA_SCIENCE)
    project = make_project(owner, name="Bulk insert")
    return RegisteredModel.objects.create(project=project, name="bulk-model", created_by=owner)


def test_copy_stores_what_bulk_create_stores_field_by_field(model: RegisteredModel) -> None:
    assert connection.vendor == "postgresql"  # the COPY path is the one under test
    builder = model.created_by
    by_copy = bulk.bulk_insert(_versions(model, 1, builder))
    by_insert = bulk.bulk_insert(_versions(model, 11, builder), copy=False)
    assert all(v.pk for v in by_copy + by_insert)
    assert not any(v._state.adding for v in by_copy)
    copied, inserted = _stored([v.pk for v in by_copy]), _stored([v.pk for v in by_insert])
    for a, b in zip(copied, inserted, strict=True):
        assert a.pop("number") + 10 == b.pop("number")
        if a["created_at"] != datetime(2026, 12, 7, 23, 0, 0, 123456, tzinfo=UTC):
            a.pop("created_at"), b.pop("created_at")  # the moment each was made
        assert a == b
    assert copied[0]["description"] == AWKWARD
    assert copied[0]["framework"] == "\\N"  # text, not NULL
    assert copied[1]["metrics"][AWKWARD] == [1, None, True, {"x": AWKWARD}]
    assert copied[2]["metrics"] == {}
    # The instances hold what the rows hold, and their keys came from the table's own sequence.
    assert ModelVersion.objects.get(pk=by_copy[0].pk).description == by_copy[0].description
    later = ModelVersion.objects.create(model=model, number=99, created_by=builder)
    assert later.pk > max(v.pk for v in by_copy + by_insert)


def test_a_row_the_database_refuses_raises_djangos_integrity_error_and_writes_nothing(
    model: RegisteredModel,
) -> None:
    builder = model.created_by
    bulk.bulk_insert(_versions(model, 1, builder))
    before = ModelVersion.objects.count()
    again = bulk.unsaved(
        ModelVersion,
        [{"model": model, "number": 5, "created_by": builder}, {"model": model, "number": 1, "created_by": builder}],
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.bulk_insert(again)
    assert ModelVersion.objects.count() == before


def test_unsaved_makes_what_the_constructor_makes(model: RegisteredModel) -> None:
    builder = model.created_by
    fast = bulk.unsaved(ModelVersion, [{"model": model, "number": 3, "created_by": builder, "metrics": {"a": 1}}])[0]
    slow = ModelVersion(model=model, number=3, created_by=builder, metrics={"a": 1})
    names = [f.attname for f in ModelVersion._meta.concrete_fields if f.attname != "created_at"]
    assert [getattr(fast, n) for n in names] == [getattr(slow, n) for n in names]
    assert fast.model is model  # the related object is cached, as the constructor caches it
    assert fast._state.adding
    assert bulk.unsaved(ModelVersion, [{}, {}])[0].metrics is not bulk.unsaved(ModelVersion, [{}])[0].metrics


@pytest.mark.parametrize("copy", [True, False], ids=["copy", "bulk_create"])
def test_versions_import_many_events_hold_the_snapshot_of_each_stored_version(
    model: RegisteredModel, monkeypatch: pytest.MonkeyPatch, copy: bool
) -> None:
    if not copy:
        monkeypatch.setattr(bulk, "_copy", lambda objs, using: False)
    builder = model.created_by
    items = [
        imports.ImportedVersion(
            number=n,
            created_by=builder,
            artifact_uri=f"s3://b/{n}",
            artifact_sha256="",
            framework="sklearn",
            source_run_id=f"run{n}",
            metrics={"auc": 1.0, "loss": 0.25, AWKWARD: AWKWARD},
            description=AWKWARD if n % 2 else "",
        )
        for n in range(1, 6)
    ]
    start = AuditEvent.objects.count()
    created = imports.versions_import_many(actor=builder, actor_name="mlflow:test", batches=[(model, items)])
    assert [v.number for v in created] == [1, 2, 3, 4, 5]
    assert ModelCard.objects.filter(version__in=created, updated_by=builder).count() == 5
    events = list(AuditEvent.objects.filter(action="registry.model_version.created").order_by("seq"))[-5:]
    assert AuditEvent.objects.count() == start + 5
    for event, version in zip(events, created, strict=True):
        stored = ModelVersion.objects.get(pk=version.pk)
        assert event.target_id == str(stored.pk)
        assert event.target_repr == str(stored)
        assert event.project_pk == model.project_id
        assert event.actor_name == "mlflow:test"
        assert event.changes == changes_between({}, snapshot(stored, ("number", *VERSION_FIELDS)))
