"""Insert many new rows at once: PostgreSQL's COPY, ``bulk_create`` on other databases.

``bulk_insert(objs)`` takes unsaved model instances, as ``bulk_create`` does, and gives each its primary
key. On PostgreSQL the keys are drawn from the table's sequence first (one statement for all), then
the rows go in with one ``COPY … FROM STDIN`` in CSV, written by the csv module straight from the
instances' attributes: no per-value preparation by the query compiler and no SQL text to parse,
which is where ``bulk_create`` spends its time at tens of thousands of rows. What goes in is what
``bulk_create`` would write: every concrete column, defaults as the constructor filled them. COPY
fires INSERT triggers and checks constraints as INSERT does; like ``bulk_create`` it sends no
signals and calls no ``save()``. Other databases (SQLite, the embedded default) get ``bulk_create``,
and so does a model with a column this module does not write (a type it does not know, a nullable
text column: CSV's ``\\N`` would be ambiguous there).

``unsaved(model, rows)`` makes the unsaved instances from dicts faster than ``model(**row)``.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.db import connections, models
from django.db.models.base import ModelState
from django.utils import timezone

T = TypeVar("T", bound=models.Model)

NULL = "\\N"  # COPY's NULL; a quoted or FORCE_NOT_NULL column reads it as text
# Columns written as str() gives them: integers, text, times (ISO with a space, offset kept), booleans.
_AS_TEXT = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "CharField",
        "TextField",
        "SlugField",
        "EmailField",
        "URLField",
        "DateTimeField",
        "DateField",
        "BooleanField",
    }
)
_TEXT = frozenset({"CharField", "TextField", "SlugField", "EmailField", "URLField"})


def _kind(field: models.Field[Any, Any]) -> str:
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    return str(target.get_internal_type())


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """What a column's value needs before the csv writer takes it (None: nothing)."""
    if _kind(field) == "JSONField":
        dumps = json.JSONEncoder().encode if field.encoder is None else field.encoder().encode  # type: ignore[attr-defined]
        return lambda value: NULL if value is None else ("{}" if value == {} else dumps(value))
    if field.null:
        return lambda value: NULL if value is None else value
    return None


@functools.cache
def _copy_plan(model: type[models.Model]) -> tuple[str, Callable[[Any], Any], list[tuple[int, Any]]] | None:
    """The COPY statement for ``model``, a getter of each row's values and the conversions; None if not COPYable."""
    meta = model._meta
    fields = list(meta.concrete_fields)
    if not isinstance(meta.pk, models.AutoField) or any(
        getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) for field in fields
    ):
        return None  # keys of its own, or stamps only save() and bulk_create set
    text_columns: list[str] = []
    for field in fields:
        kind = _kind(field)
        if kind not in _AS_TEXT and kind != "JSONField":
            return None
        if kind in _TEXT or kind == "JSONField":
            if field.null:
                return None
            text_columns.append(field.column)
    quote = connections["default"].ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    force = ", ".join(quote(column) for column in text_columns)
    options = f"FORMAT csv, NULL '{NULL}'" + (f", FORCE_NOT_NULL ({force})" if force else "")
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN WITH ({options})"
    getter = operator.attrgetter(*[field.attname for field in fields])
    conversions = [(index, convert) for index, field in enumerate(fields) if (convert := _converter(field))]
    return sql, getter, conversions


def copy_from(cursor: Any, sql: str, buffer: io.StringIO) -> None:
    """Run one ``COPY … FROM STDIN`` on a psycopg2 cursor (apart, so a profile can time the statement)."""
    cursor.copy_expert(sql, buffer)


def _copy(objs: Sequence[models.Model], using: str) -> bool:
    """COPY ``objs`` in on PostgreSQL; return False, writing nothing, when this model needs ``bulk_create``."""
    model = type(objs[0])
    plan = _copy_plan(model)
    if plan is None:
        return False
    sql, getter, conversions = plan
    meta = model._meta
    connection = connections[using]
    missing = [obj for obj in objs if obj.pk is None]
    with connection.cursor() as cursor:
        if missing:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(missing)],
            )
            for obj, (key,) in zip(missing, cursor.fetchall(), strict=True):
                obj.pk = key
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if conversions:
            for obj in objs:
                row = list(getter(obj))
                for index, convert in conversions:
                    row[index] = convert(row[index])
                writer.writerow(row)
        else:
            writer.writerows(map(getter, objs))
        buffer.seek(0)
        with connection.wrap_database_errors:  # Django's errors (IntegrityError ...), as execute() raises
            copy_from(cursor.cursor, sql, buffer)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return True


def bulk_insert(
    objs: Sequence[T], *, using: str = "default", batch_size: int | None = None, copy: bool = True
) -> list[T]:
    """Insert the unsaved ``objs`` (all of one model) and return them with their primary keys set.

    ``copy=False`` takes ``bulk_create`` on PostgreSQL too (the tests compare the two). Call inside a
    transaction when the rows must go in together; a failed COPY leaves a gap in the ids, as a
    failed INSERT does. Raises what the database raises for a row it refuses (IntegrityError, ...).
    """
    objs = list(objs)
    if not objs:
        return objs
    if copy and connections[using].vendor == "postgresql" and _copy(objs, using):
        return objs
    return type(objs[0])._default_manager.using(using).bulk_create(objs, batch_size=batch_size)


@functools.cache
def _plan(model: type[models.Model]) -> tuple[dict[str, Any], list[tuple[str, Callable[[], Any]]], dict[str, Any]]:
    """Per model: the constant defaults, the defaults made per instance (callables), the foreign keys by name."""
    constant: dict[str, Any] = {}
    made: list[tuple[str, Callable[[], Any]]] = []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            made.append((field.attname, field.default))
        else:
            constant[field.attname] = field.get_default()  # a value Model.__init__ shares between instances too
    relations = {
        field.name: field for field in model._meta.concrete_fields if field.is_relation and field.name != field.attname
    }
    return constant, made, relations


def unsaved(model: type[T], rows: Iterable[Mapping[str, Any]]) -> list[T]:
    """New, unsaved instances of ``model`` from ``rows`` of field values: what ``model(**row)`` makes, faster.

    A row names columns by field name (``model=instance``: the key and the cached object) or by
    column attribute (``model_id=3``); columns left out take their defaults as the constructor gives
    them. Skips what makes ``Model.__init__`` slow at tens of thousands of rows (keyword matching,
    a descriptor call per field, the init signals, which nothing in Signet listens to). No
    validation, as with the constructor.
    """
    constant, made, relations = _plan(model)
    now = timezone.now()  # one moment for the rows made together (bulk_create's differ by microseconds)
    made = [(attname, (lambda: now) if default is timezone.now else default) for attname, default in made]
    objs: list[T] = []
    new = object.__new__
    for row in rows:
        obj = new(model)
        obj._state = ModelState()
        values = obj.__dict__
        values.update(constant)
        for attname, default in made:
            values[attname] = default()
        for name, value in row.items():
            relation = relations.get(name)
            if relation is None:
                values[name] = value
            else:
                values[relation.attname] = None if value is None else value.pk
                relation.set_cached_value(obj, value)
        objs.append(obj)
    return objs
