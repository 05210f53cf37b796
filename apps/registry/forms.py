from __future__ import annotations

import json
from typing import Any

from django import forms
from django.db.models import QuerySet

from apps.registry import rules
from apps.registry.choices import CARD_SECTIONS, ModelTask, Sensitivity
from apps.registry.models import DatasetVersion, ModelVersion

TEXTAREA = forms.Textarea(attrs={"rows": 3})


def parse_tags(text: str) -> list[str]:
    return [tag.strip().lower() for tag in text.split(",") if tag.strip()]


class RegisteredModelForm(forms.Form):
    name = forms.SlugField(
        max_length=rules.MODEL_NAME_MAX_CHARS,
        help_text="Letters, digits and dashes, unique in Signet: credit-default-pd",
    )
    task = forms.ChoiceField(choices=ModelTask.choices)
    description = forms.CharField(max_length=rules.DESCRIPTION_MAX_CHARS, required=False, widget=TEXTAREA)
    tags = forms.CharField(
        max_length=rules.TAG_TEXT_MAX_CHARS, required=False, help_text="Comma-separated, such as: credit, retail"
    )

    def clean_tags(self) -> list[str]:
        tags = parse_tags(self.cleaned_data["tags"])
        if len(tags) > rules.MAX_TAGS:
            raise forms.ValidationError(f"Use at most {rules.MAX_TAGS} tags.")
        return tags


class RegisteredModelEditForm(RegisteredModelForm):
    name = None  # type: ignore[assignment]  # a model's name is its identity for pipelines: it does not change


class DatasetVersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.dataset.name} v{obj.number} ({obj.dataset.project.name})"


class ModelVersionForm(forms.Form):
    artifact_uri = forms.CharField(
        max_length=rules.URI_MAX_CHARS, required=False, help_text="Where the artifact lives: s3://…, models:/…"
    )
    artifact_sha256 = forms.RegexField(
        regex=rules.SHA256_PATTERN,
        required=False,
        label="Artifact SHA-256",
        error_messages={"invalid": rules.SHA256_INVALID},
    )
    framework = forms.CharField(
        max_length=rules.FRAMEWORK_MAX_CHARS, required=False, help_text="scikit-learn 1.7, XGBoost 3.0, ONNX …"
    )
    training_dataset = DatasetVersionChoiceField(queryset=DatasetVersion.objects.none(), required=False)
    parent = forms.ModelChoiceField(queryset=ModelVersion.objects.none(), required=False, label="Derived from version")
    source_run_id = forms.CharField(
        max_length=rules.SOURCE_RUN_ID_MAX_CHARS,
        required=False,
        label="Source run id",
        help_text="An MLflow run id, for example.",
    )
    metrics = forms.CharField(
        required=False,
        widget=TEXTAREA,
        max_length=rules.METRICS_TEXT_MAX_CHARS,
        help_text='JSON object of numbers, e.g. {"roc_auc": 0.81}',
    )
    description = forms.CharField(
        max_length=rules.DESCRIPTION_MAX_CHARS, required=False, widget=TEXTAREA, label="What changed"
    )

    def __init__(
        self, *args: Any, datasets: QuerySet[DatasetVersion], parents: QuerySet[ModelVersion], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["training_dataset"].queryset = datasets.select_related("dataset__project")  # type: ignore[attr-defined]
        self.fields["parent"].queryset = parents  # type: ignore[attr-defined]

    def clean_artifact_sha256(self) -> str:
        return str(self.cleaned_data["artifact_sha256"]).lower()

    def clean_metrics(self) -> dict[str, float]:
        return parse_metrics(self.cleaned_data["metrics"])


def parse_metrics(text: str | dict[str, Any] | None) -> dict[str, float]:
    """Accept a JSON object of finite numbers (the form's text or the API's object)."""
    if text in (None, ""):
        return {}
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(f"This is not valid JSON ({exc.msg} at position {exc.pos}).") from None
    except ValueError:  # for example a number with thousands of digits
        raise forms.ValidationError("This JSON holds a value too large to read.") from None
    if not isinstance(value, dict):
        raise forms.ValidationError('Give an object such as {"roc_auc": 0.81}.')
    clean: dict[str, float] = {}
    for key, number in value.items():
        if (
            isinstance(number, bool)
            or not isinstance(number, int | float)
            or number != number  # noqa: PLR0124 - true only for NaN
            or abs(number) == float("inf")
        ):
            raise forms.ValidationError(f"The metric “{str(key)[:40]}” must be a finite number.")
        if len(str(key)) > 64 or not str(key).isprintable() or not str(key).strip():
            raise forms.ValidationError("Metric names are 1 to 64 printable characters.")
        clean[str(key)] = number
    if len(clean) > 100:
        raise forms.ValidationError("Record at most 100 metrics.")
    return clean


class ModelCardForm(forms.Form):
    def __init__(self, *args: Any, required: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, title, help_text in CARD_SECTIONS:
            needed = required is not None and name in required
            self.fields[name] = forms.CharField(
                label=title + (" (required for this tier)" if needed else ""),
                help_text=help_text,
                required=False,
                max_length=rules.CARD_SECTION_MAX_CHARS,
                widget=forms.Textarea(attrs={"rows": 4}),
            )


class DatasetForm(forms.Form):
    name = forms.CharField(max_length=rules.DATASET_NAME_MAX_CHARS)
    description = forms.CharField(max_length=rules.DESCRIPTION_MAX_CHARS, required=False, widget=TEXTAREA)
    source = forms.CharField(
        max_length=rules.DATASET_SOURCE_MAX_CHARS, required=False, help_text="System or team the data comes from."
    )
    sensitivity = forms.ChoiceField(choices=Sensitivity.choices, initial=Sensitivity.INTERNAL)
    contains_personal_data = forms.BooleanField(required=False, label="Contains personal data")


class DatasetUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV (UTF-8, with a header row) or Parquet.")


class DatasetLinkForm(forms.Form):
    uri = forms.CharField(
        max_length=rules.URI_MAX_CHARS, label="Location (URI)", help_text="s3://bucket/path/data.parquet"
    )
    sha256 = forms.CharField(max_length=rules.SHA256_CHARS, required=False, label="SHA-256 (optional)")
