"""The filters of monitoring's lists: one FilterSet per list (django-filter), for its API and any page of it."""

from __future__ import annotations

import django_filters

from apps.monitoring.choices import BatchKind, BatchStatus, WindowSize
from apps.monitoring.models import Batch, Monitor, WindowResult
from apps.validation.filters import IdFilter


def _choice(choices: list[tuple[str, str]], values: list[str]) -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        choices=choices, error_messages={"invalid_choice": f"Choose one of {', '.join(values)}."}
    )


class MonitorFilter(django_filters.FilterSet):
    """Monitors: ``?version=<id>`` and ``?deployment=<id>``."""

    version = IdFilter(field_name="version_id", what="version")
    deployment = IdFilter(field_name="deployment_id", what="deployment")

    class Meta:
        model = Monitor
        fields: list[str] = []


class BatchFilter(django_filters.FilterSet):
    """A monitor's batches: ``?kind=`` and ``?status=``."""

    kind = _choice(BatchKind.choices, BatchKind.values)
    status = _choice(BatchStatus.choices, BatchStatus.values)

    class Meta:
        model = Batch
        fields: list[str] = []


class WindowFilter(django_filters.FilterSet):
    """Window results: ``?size=`` (day when not given), ``?metric=``, ``?column=``, ``?since=``, ``?until=``."""

    size = _choice(WindowSize.choices, WindowSize.values)
    metric = django_filters.CharFilter(field_name="metric", max_length=60)
    column = django_filters.CharFilter(field_name="column", max_length=256)
    since = django_filters.IsoDateTimeFilter(field_name="start", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = WindowResult
        fields: list[str] = []
