"""Serializer fields that take a JSON value only in the type the schema names.

DRF is lenient by design: a CharField turns ``0`` into ``"0"``, an IntegerField takes ``"5"`` and
``5.0``, a BooleanField takes ``"yes"`` and ``1``. The API documents types, and a client that sends
a number where text belongs has a bug we should tell it about, so a JSON body gets a 400 for a
value of the wrong type. Form and multipart bodies (uploads) carry only text, so they keep DRF's
conversions: the check applies when the root serializer was given parsed JSON, not a QueryDict.

Every app's serializers use these classes (``strict.CharField`` where DRF has
``serializers.CharField``); ``ModelSerializer`` maps model fields onto them too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from django.core.validators import RegexValidator
from django.db import models
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.fields import Field

_M = TypeVar("_M", bound=models.Model)

_TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


def _from_json(field: Field) -> bool:
    initial = getattr(field.root, "initial_data", None)
    return initial is not None and not isinstance(initial, QueryDict)


class _Typed:
    """Refuse a JSON value whose type is not one of ``json_types`` (a bool is never a number)."""

    json_types: ClassVar[tuple[type, ...]] = (str,)

    def to_internal_value(self, data: Any) -> Any:
        assert isinstance(self, Field)
        if _from_json(self) and (
            not isinstance(data, self.json_types) or (isinstance(data, bool) and bool not in self.json_types)
        ):
            wanted = " or ".join(_TYPE_NAMES[kind] for kind in self.json_types)
            raise serializers.ValidationError(f"Expected {wanted}, got {_json_type(data)}.", code="invalid_type")
        return super().to_internal_value(data)  # type: ignore[misc]


_JSON_NAMES: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (bool, "true or false"),  # before int: a bool is an int in Python
    (int, "a number"),
    (float, "a number"),
    (str, "text"),
    (list, "a list"),
    (dict, "an object"),
)


def _json_type(value: Any) -> str:
    return next((name for kind, name in _JSON_NAMES if isinstance(value, kind)), type(value).__name__)


class CharField(_Typed, serializers.CharField):
    pass


def _pattern(regex: str | re.Pattern[str]) -> str:
    return regex if isinstance(regex, str) else regex.pattern


class _BlankInPattern:
    """A field that allows blank says so in its pattern too: DRF accepts ``""`` before any validator
    runs, and the schema would otherwise promise that ``""`` is refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self
        assert isinstance(field, serializers.CharField)
        if field.allow_blank:
            field.validators = [
                RegexValidator(f"^$|{_pattern(v.regex)}", message=v.message) if isinstance(v, RegexValidator) else v
                for v in field.validators
            ]


class SlugField(_Typed, _BlankInPattern, serializers.SlugField):
    pass


class RegexField(_Typed, _BlankInPattern, serializers.RegexField):
    pass


class EmailField(_Typed, serializers.EmailField):
    pass


class URLField(_Typed, serializers.URLField):
    pass


class ChoiceField(_Typed, serializers.ChoiceField):
    pass


class DateField(_Typed, serializers.DateField):
    pass


class DateTimeField(_Typed, serializers.DateTimeField):
    pass


class IntegerField(_Typed, serializers.IntegerField):
    json_types = (int,)


class FloatField(_Typed, serializers.FloatField):
    json_types = (int, float)


class BooleanField(_Typed, serializers.BooleanField):
    json_types = (bool,)


class ModelSerializer(serializers.ModelSerializer[_M]):
    """A ModelSerializer whose generated fields are the strict ones above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: CharField,
        models.TextField: CharField,
        models.SlugField: SlugField,
        models.EmailField: EmailField,
        models.URLField: URLField,
        models.DateField: DateField,
        models.DateTimeField: DateTimeField,
        models.IntegerField: IntegerField,
        models.PositiveIntegerField: IntegerField,
        models.PositiveSmallIntegerField: IntegerField,
        models.SmallIntegerField: IntegerField,
        models.BigIntegerField: IntegerField,
        models.FloatField: FloatField,
        models.BooleanField: BooleanField,
    }
    serializer_choice_field = ChoiceField


class ReadModelSerializer(ModelSerializer[_M]):
    """A ModelSerializer for answers only, whose fields are built once per class, not once per answer.

    DRF builds a ModelSerializer's fields (model introspection, deep copies of the declared ones)
    each time one is made: about a millisecond, more than the rest of a one-object read. The
    representation here is DRF's own loop over those fields, built once on a prototype, so it is the
    same by construction; which is why every field must be read-only and none may read the
    serializer's context (the prototype has none). tests/core/test_read_serializers.py compares the two.
    """

    _prototype_fields: ClassVar[Sequence[Field]]

    @property
    def _readable_fields(self) -> Sequence[Field]:  # type: ignore[override]
        cls = type(self)
        fields = cls.__dict__.get("_prototype_fields")
        if fields is None:
            built = cls().fields
            writable = [name for name, field in built.items() if not field.read_only]
            if writable:
                raise TypeError(f"{cls.__name__} answers only: make {', '.join(writable)} read-only")
            fields = tuple(built.values())
            cls._prototype_fields = fields  # built twice by two first answers at once: the same either way
        return fields
