"""The database itself refuses to change or remove audit events, on PostgreSQL and on SQLite."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from apps.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from apps.audit.services import audit_record

DATABASES = ["default", "sqlite"]


def _attempts(alias: str) -> dict[str, object]:
    def instance_save() -> None:
        event = AuditEvent.objects.using(alias).get(seq=1)
        event.action = "test.event.rewritten"
        event.save(using=alias)

    def instance_delete() -> None:
        AuditEvent.objects.using(alias).get(seq=1).delete()

    def queryset_update() -> None:
        AuditEvent.objects.using(alias).filter(seq=1).update(actor_name="mallory")

    def queryset_delete() -> None:
        AuditEvent.objects.using(alias).all().delete()

    def raw_update() -> None:
        with connections[alias].cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET hash = 'x' WHERE seq = 1")

    def raw_delete() -> None:
        with connections[alias].cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")

    return {
        f.__name__: f
        for f in (instance_save, instance_delete, queryset_update, queryset_delete, raw_update, raw_delete)
    }


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize("alias", DATABASES)
@pytest.mark.parametrize(
    "attempt", ["instance_save", "instance_delete", "queryset_update", "queryset_delete", "raw_update", "raw_delete"]
)
def test_database_refuses_update_and_delete_of_audit_events(alias: str, attempt: str) -> None:
    with transaction.atomic(using=alias):
        audit_record(actor=None, action="test.event.recorded", data={"n": 1}, using=alias)
    before = list(AuditEvent.objects.using(alias).values_list("seq", "action", "actor_name", "hash"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(using=alias):
        _attempts(alias)[attempt]()  # type: ignore[operator]
    after = list(AuditEvent.objects.using(alias).values_list("seq", "action", "actor_name", "hash"))
    assert after == before


@pytest.mark.django_db
def test_postgresql_refuses_truncate_of_the_audit_table() -> None:
    audit_record(actor=None, action="test.event.recorded")
    with connections["default"].cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # settle the deferred checks TRUNCATE waits for
        cursor.execute("SET LOCAL signet.allow_truncate = 'off'")  # as on any real database
        with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
            cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize("alias", DATABASES)
def test_appending_still_works_on_both_databases(alias: str) -> None:
    for i in range(3):
        audit_record(actor=None, action="test.event.recorded", data={"i": i}, using=alias)
    assert list(AuditEvent.objects.using(alias).order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]


@pytest.mark.django_db(databases=DATABASES)
@pytest.mark.parametrize("alias", DATABASES)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditcheckpoint SET head_hash = 'x'",
        "DELETE FROM audit_auditcheckpoint",
        "DELETE FROM audit_auditchainhead",
        "UPDATE audit_auditchainhead SET seq = seq - 1",
        "UPDATE audit_auditchainhead SET hash = 'x'",
    ],
)
def test_database_refuses_to_change_checkpoints_or_move_the_head_back(alias: str, statement: str) -> None:
    for i in range(2):
        audit_record(actor=None, action="test.event.recorded", data={"i": i}, using=alias)
    AuditCheckpoint.objects.using(alias).create(
        seq=2, head_hash="a" * 64, signed_at=timezone.now(), key_id="b" * 16, signature="c" * 128
    )
    before = (
        list(AuditCheckpoint.objects.using(alias).values_list("seq", "head_hash")),
        list(AuditChainHead.objects.using(alias).values_list("seq", "hash")),
    )
    assert before[1][0][0] == 2
    with (
        pytest.raises(DatabaseError, match=r"append-only|only moves forward"),
        transaction.atomic(using=alias),
        connections[alias].cursor() as cursor,
    ):
        cursor.execute(statement)
    after = (
        list(AuditCheckpoint.objects.using(alias).values_list("seq", "head_hash")),
        list(AuditChainHead.objects.using(alias).values_list("seq", "hash")),
    )
    assert after == before
