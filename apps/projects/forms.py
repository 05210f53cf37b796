from __future__ import annotations

from typing import Any

from django import forms

from apps.accounts.models import User
from apps.accounts.selectors import active_user_by_username
from apps.projects import rules
from apps.projects.choices import DataAccessStatus, KpiDirection, ProjectRole, ProjectStatus

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class ProjectForm(forms.Form):
    name = forms.CharField(
        max_length=rules.PROJECT_NAME_MAX_CHARS,
        help_text="A short name people will recognise, such as “Credit line scoring”.",
    )
    business_objective = forms.CharField(
        max_length=rules.PROJECT_TEXT_MAX_CHARS,
        widget=TEXTAREA,
        help_text="What should change for the business, in plain words?",
    )
    intended_users = forms.CharField(max_length=rules.PROJECT_TEXT_MAX_CHARS, required=False, widget=TEXTAREA)
    out_of_scope = forms.CharField(
        max_length=rules.PROJECT_TEXT_MAX_CHARS,
        required=False,
        widget=TEXTAREA,
        label="Out-of-scope uses",
        help_text="What it must not be used for.",
    )


class ProjectEditForm(ProjectForm):
    status = forms.ChoiceField(choices=ProjectStatus.choices)


class MembershipForm(forms.Form):
    username = forms.CharField(max_length=rules.USERNAME_MAX_CHARS, help_text="The person's Signet username.")
    role = forms.ChoiceField(choices=ProjectRole.choices)

    def clean_username(self) -> User:
        user = active_user_by_username(self.cleaned_data["username"])
        if user is None:
            raise forms.ValidationError("There is no active person with this username.")
        return user


class KpiForm(forms.Form):
    name = forms.CharField(max_length=120, label="KPI")
    target = forms.DecimalField(max_digits=18, decimal_places=6)
    unit = forms.CharField(max_length=30, required=False)
    direction = forms.ChoiceField(choices=KpiDirection.choices)


class KpiValueForm(forms.Form):
    value = forms.DecimalField(max_digits=18, decimal_places=6, label="Current value")


class DataNeedForm(forms.Form):
    description = forms.CharField(max_length=300, label="Data needed")
    provider = forms.CharField(max_length=120, required=False, label="From whom")
    access_status = forms.ChoiceField(choices=DataAccessStatus.choices, label="Access")


class CommentForm(forms.Form):
    body = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}), label="Add to the discussion")


class QualificationForm(forms.Form):
    """One radio group per question of the questionnaire version in force."""

    def __init__(self, questions: list[dict[str, Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in questions:
            self.fields[question["key"]] = forms.ChoiceField(
                label=question["text"],
                choices=[(c["value"], c["label"]) for c in question["choices"]],
                widget=forms.RadioSelect,
                error_messages={"required": "Please answer this question."},
            )
