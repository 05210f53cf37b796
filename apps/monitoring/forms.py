"""The page's form to set up a monitor: it parses what a person typed; the service decides and audits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from apps.monitoring.choices import WindowSize
from apps.projects.choices import ProjectRole
from apps.validation.forms import JsonField

if TYPE_CHECKING:
    from apps.registry.models import DatasetVersion
    from apps.validation.models import ValidationSuite

# The API's bounds (apps/monitoring/api/serializers.py), so the page and the API accept the same monitors.
MAX_INTERVAL_MINUTES = 525_600  # a year
MAX_DAYS = 3650


class MonitorForm(forms.Form):
    name = forms.CharField(max_length=120, initial="production", help_text="Unique among this deployment's monitors")
    reference = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label="Reference data",
        help_text="What production is compared with; by default the data of the newest passing validation run",
    )
    suite = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label="Suite",
        help_text="The column mapping, checks and thresholds; by default those of the newest passing validation run",
    )
    spec = JsonField(
        required=False,
        text_limit=200_000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        label="Or a suite as JSON",
        help_text='For example {"task": "binary_classification", "columns": {...}, "checks": "standard"}.',
    )
    window_sizes = forms.MultipleChoiceField(
        choices=WindowSize.choices,
        initial=[WindowSize.HOUR, WindowSize.DAY, WindowSize.WEEK],
        widget=forms.CheckboxSelectMultiple,
        label="Window sizes",
        help_text="The metrics are computed over each of these windows",
        error_messages={"required": "Choose at least one window size."},
    )
    breach_window = forms.ChoiceField(
        choices=WindowSize.choices,
        initial=WindowSize.DAY,
        label="Breach window",
        help_text="The window size on which a metric out of its threshold is a breach",
    )
    notify_roles = forms.MultipleChoiceField(
        choices=ProjectRole.choices,
        required=False,
        initial=[ProjectRole.OWNER, ProjectRole.DEVELOPER],
        widget=forms.CheckboxSelectMultiple,
        label="Who hears of a breach",
        help_text="The project's people in these roles; none ticked means owners and developers",
    )
    gate_blocking = forms.BooleanField(required=False, label="A breach makes the deployment gate refuse this version")
    expected_interval_minutes = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_INTERVAL_MINUTES,
        label="Expected interval (minutes)",
        help_text="Those who hear of breaches and IT operations are told when no batch came for longer; empty for none",
    )
    retention_days = forms.IntegerField(
        min_value=1, max_value=MAX_DAYS, initial=90, label="Keep raw batches (days)",
        help_text="Profiles stay; the metrics that need rows (KS, ROC AUC) need the raw batches",
    )  # fmt: skip
    outcome_lookback_days = forms.IntegerField(
        min_value=1, max_value=MAX_DAYS, initial=30, label="Outcomes join predictions of the last (days)"
    )
    id_column = forms.CharField(max_length=256, initial="prediction_id", label="Prediction id column")
    timestamp_column = forms.CharField(max_length=256, initial="timestamp", label="Timestamp column")

    def __init__(
        self, *args: Any, datasets: list[DatasetVersion], suites: list[ValidationSuite], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.datasets = {d.pk: d for d in datasets}
        self.suites = {s.pk: s for s in suites}
        self.fields["reference"].choices = [  # type: ignore[attr-defined]
            ("", "The data of the newest passing validation run"),
            *((d.pk, f"{d.dataset.name} v{d.number} ({d.row_count or '?'} rows)") for d in datasets),
        ]
        self.fields["suite"].choices = [  # type: ignore[attr-defined]
            ("", "The suite of the newest passing validation run"),
            *((s.pk, s.name) for s in suites),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("suite") is not None and data.get("spec") is not None:
            self.add_error("spec", "Choose a stored suite or write one as JSON, not both.")
        return data

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned fields as ``monitor_create``'s keyword arguments (the objects, not their ids)."""
        data = dict(self.cleaned_data)
        reference, suite, spec = data.pop("reference"), data.pop("suite"), data.pop("spec")
        data["reference"] = self.datasets[reference] if reference is not None else None
        data["spec"] = self.suites[suite].spec if suite is not None else spec
        return data
