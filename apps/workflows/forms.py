from __future__ import annotations

from django import forms

from apps.accounts.choices import TeamFunction
from apps.projects.choices import ProjectRole
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


class RetireForm(forms.Form):
    reason = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why it leaves service"
    )


class PolicyForm(forms.Form):
    review_period_days = forms.IntegerField(
        min_value=30, max_value=3650, label="Approval lasts (days)", help_text="Then re-certification is due."
    )
    grace_days = forms.IntegerField(
        min_value=0,
        max_value=90,
        label="Grace period (days)",
        help_text="How long the gate still allows an expired approval while re-certification runs; 0 for none.",
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    requires_validation = forms.BooleanField(
        required=False, label="Needs a passing validation run", help_text="Before a version can be submitted."
    )
    environments = forms.CharField(
        max_length=1000,
        required=False,
        label="Environments",
        help_text="Where an approval lets a version be deployed, separated by commas (such as staging, production); "
        "empty for any environment.",
    )

    def clean_environments(self) -> list[str]:
        """The slugs as a list, in the order typed; the service checks each and refuses repeats."""
        text = self.cleaned_data.get("environments") or ""
        return [name for name in (part.strip() for part in text.replace("\n", ",").split(",")) if name]


class StageForm(forms.Form):
    key = forms.RegexField(
        regex=r"^[a-z][a-z0-9_]{0,39}$",
        label="Key",
        help_text="Short id: lowercase letters, digits, underscores.",
        error_messages={"invalid": "Use lowercase letters, digits and underscores, starting with a letter."},
    )
    name = forms.CharField(max_length=100, label="Name")
    project_roles = forms.MultipleChoiceField(
        choices=ProjectRole.choices, widget=forms.CheckboxSelectMultiple, label="Signed by project roles"
    )
    team = forms.ChoiceField(choices=[("", "Any team"), *TeamFunction.choices], required=False, label="Signer's team")
    quorum = forms.IntegerField(min_value=1, max_value=10, label="Quorum (distinct people)")
    independent = forms.BooleanField(required=False, label="Independent of the builders")
    parallel = forms.BooleanField(required=False, label="Runs alongside the stage before")

    def stage(self) -> dict[str, object]:
        data = self.cleaned_data
        stage: dict[str, object] = {
            "key": data["key"],
            "name": data["name"],
            "project_roles": list(data["project_roles"]),
            "quorum": data["quorum"],
            "independent": data["independent"],
            "parallel": data["parallel"],
        }
        if data.get("team"):
            stage["team"] = data["team"]
        return stage


StageFormSet = forms.formset_factory(
    StageForm, extra=1, can_delete=True, can_order=True, max_num=12, validate_max=True, absolute_max=20
)
