from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django import forms

if TYPE_CHECKING:
    from apps.registry.models import Dataset, DatasetVersion, RegisteredModel
    from apps.validation.models import ValidationSuite


class JsonField(forms.CharField):
    """A textarea holding a JSON object; refused with a message when it is not one.

    The length limit applies to the text (CharField's own validator would measure the parsed value).
    """

    def __init__(self, *, text_limit: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text_limit = text_limit

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        if len(text) > self.text_limit:
            raise forms.ValidationError(f"A suite is at most {self.text_limit:,} characters; this is {len(text):,}.")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"This is not valid JSON: {exc.msg} at line {exc.lineno}.") from None
        except RecursionError:
            raise forms.ValidationError("This JSON is nested too deeply to be a suite.") from None
        except ValueError:  # for example a number with thousands of digits
            raise forms.ValidationError("This JSON holds a number too large to read.") from None
        if not isinstance(data, dict):
            raise forms.ValidationError('A suite is a JSON object: {"task": …, "columns": {…}, "checks": …}.')
        return data


class RunForm(forms.Form):
    reference = forms.TypedChoiceField(coerce=int, label="Reference data", help_text="Training or last approved data")
    current = forms.TypedChoiceField(
        coerce=int, label="Current data", help_text="Evaluation data or a production sample"
    )
    suite = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Suite")
    spec = JsonField(
        required=False,
        text_limit=200_000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        label="Or a suite as JSON",
        help_text='For example {"task": "binary_classification", "columns": {...}, "checks": "standard"}.',
    )

    def __init__(
        self, *args: Any, datasets: list[DatasetVersion], suites: list[ValidationSuite], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [(d.pk, f"{d.dataset.name} v{d.number} ({d.row_count or '?'} rows)") for d in datasets]
        self.fields["reference"].choices = choices  # type: ignore[attr-defined]
        self.fields["current"].choices = choices  # type: ignore[attr-defined]
        self.fields["suite"].choices = [("", "The tier's standard suite"), *((s.pk, s.name) for s in suites)]  # type: ignore[attr-defined]


class SuiteForm(forms.Form):
    name = forms.CharField(max_length=120)
    spec = JsonField(
        text_limit=200_000, widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}), label="Suite (JSON)"
    )
    model = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Model (for a schedule)")
    reference = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Reference data (for a schedule)"
    )
    current_dataset = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Current dataset (its latest version is used)"
    )
    schedule_hours = forms.IntegerField(required=False, min_value=1, max_value=2160, label="Run every (hours)")

    def __init__(
        self,
        *args: Any,
        models: list[RegisteredModel],
        datasets: list[Dataset],
        versions: list[DatasetVersion],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "—"), *((m.pk, m.name) for m in models)]  # type: ignore[attr-defined]
        self.fields["reference"].choices = [("", "—"), *((d.pk, f"{d.dataset.name} v{d.number}") for d in versions)]  # type: ignore[attr-defined]
        self.fields["current_dataset"].choices = [("", "—"), *((d.pk, d.name) for d in datasets)]  # type: ignore[attr-defined]
