"""The filters of validation's lists: one FilterSet per list (django-filter), for its API and any page of it.

An id parameter is parsed the way every id from text is (apps/core/ids.py): anything but the
ASCII digits of a positive key is refused with "Give a <thing> id.", never a server error. An
empty parameter filters nothing, as an HTML form's empty field does.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from apps.core.ids import parse_id
from apps.validation.choices import RunStatus
from apps.validation.models import ValidationRun, ValidationSuite


class IdField(forms.Field):
    """A positive database id given as text; ``what`` names it in the refusal."""

    def __init__(self, *args: Any, what: str = "", **kwargs: Any) -> None:
        self.what = what
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_id(value if isinstance(value, str) else str(value))
        if number is None:
            raise ValidationError(f"Give a {self.what} id.", code="invalid")
        return number


class IdFilter(django_filters.Filter):
    field_class = IdField


def _status_filter() -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        choices=RunStatus.choices,
        error_messages={"invalid_choice": f"Choose one of {', '.join(RunStatus.values)}."},
    )


class RunFilter(django_filters.FilterSet):
    """Validation runs: ``?version=<id>`` and ``?status=<run status>``."""

    version = IdFilter(field_name="version_id", what="version")
    status = _status_filter()

    class Meta:
        model = ValidationRun
        fields: list[str] = []


class SuiteFilter(django_filters.FilterSet):
    """Stored suites: ``?project=<slug>`` and ``?model=<id>`` (the page's project is its own)."""

    project = django_filters.CharFilter(field_name="project__slug")
    model = IdFilter(field_name="model_id", what="model")

    class Meta:
        model = ValidationSuite
        fields: list[str] = []
