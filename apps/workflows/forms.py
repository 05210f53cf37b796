from __future__ import annotations

from django import forms

from apps.workflows.choices import DecisionKind, FindingSeverity, FindingType


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(choices=DecisionKind.choices, widget=forms.RadioSelect, label="Your decision")
    comment = forms.CharField(
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to reject or to request changes.",
    )
    evidence_digest = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)


class FindingForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=FindingType.choices)
    severity = forms.ChoiceField(choices=FindingSeverity.choices)
    description = forms.CharField(max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.CharField(max_length=150, help_text="Username of the person who will remediate it.")
    due_date = forms.DateField(required=False, help_text="YYYY-MM-DD")


class FindingStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("remediated", "Remediated"), ("closed", "Closed"), ("accepted", "Accepted as exception")]
    )
    remediation = forms.CharField(max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(max_length=5000, required=False, label="Why")


class DeploymentForm(forms.Form):
    environment = forms.SlugField(max_length=40, initial="production")
    notes = forms.CharField(max_length=5000, required=False)


class DelegationForm(forms.Form):
    username = forms.CharField(max_length=150)
    reason = forms.CharField(max_length=5000, required=False)
