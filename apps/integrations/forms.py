"""The bridge's forms: a connection (never a secret's value: only where to read it) and a claim."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django import forms

from apps.integrations.choices import AuthKind
from apps.integrations.models import SECRET_ENV_PREFIX
from apps.projects.models import Project

SECRETS_HELP = (
    f"Signet never stores a secret: name an environment variable of the Signet processes that starts with "
    f"{SECRET_ENV_PREFIX}, or a file in the secrets folder (SIGNET_SECRETS_DIR)."
)

MAX_ALIASES_TEXT = 4000  # twenty aliases with their environments fit many times over


class ProtectedAliasesField(forms.CharField):
    """A JSON object of alias -> environment, written as text; the service checks names and values."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        return json.dumps(value) if isinstance(value, dict) else value

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return {}
        if len(text) > MAX_ALIASES_TEXT:
            raise forms.ValidationError("The protected aliases are longer than Signet reads.")
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            raise forms.ValidationError(
                'Write the aliases as JSON with their environment, such as {"champion": "production"}.'
            ) from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError('Give an object of aliases, such as {"champion": "production"}.')
        return parsed


class ConnectionForm(forms.Form):
    name = forms.SlugField(
        max_length=60,
        help_text="Lowercase letters, digits and -: it names the bridge's account (mlflow-bridge-<name>) and "
        "the webhook address, and cannot change later.",
    )
    url = forms.CharField(max_length=300, label="Tracking server", help_text="https://mlflow.example.org")
    auth_kind = forms.ChoiceField(choices=AuthKind.choices, label="Authentication")
    username = forms.CharField(max_length=150, required=False, help_text="For basic authentication.")
    secret_env = forms.CharField(
        max_length=100,
        required=False,
        label="Token or password: environment variable",
        help_text=SECRETS_HELP,
    )
    secret_file = forms.CharField(
        max_length=121, required=False, label="…or secret file", help_text="A file name in the secrets folder."
    )
    webhook_secret_env = forms.CharField(
        max_length=100,
        required=False,
        label="Webhook signing secret: environment variable",
        help_text="The secret you give MLflow when you create the webhook; Signet refuses unsigned deliveries.",
    )
    webhook_secret_file = forms.CharField(max_length=121, required=False, label="…or secret file")
    project_tag = forms.CharField(
        max_length=250,
        initial="signet.project",
        help_text="The MLflow model tag whose value is the slug of the Signet project; models without it wait "
        "in the intake list.",
    )
    protected_aliases = ProtectedAliasesField(
        max_length=5000,
        required=False,
        initial='{"champion": "production", "production": "production"}',
        help_text="Aliases pipelines deploy from, each with the environment whose gate its version must pass.",
    )
    restore_aliases = forms.BooleanField(
        required=False,
        label="Restore protected aliases",
        help_text="Move a protected alias back to the last approved version (or remove it) when it points at one "
        "the gate refuses.",
    )
    write_back = forms.BooleanField(required=False, initial=True, label="Write signet.* tags to MLflow versions")
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["name"]  # a connection keeps its name


class ClaimForm(forms.Form):
    """The project to claim into: the list offers the viewer's own projects; the service decides."""

    project = forms.SlugField(max_length=100, widget=forms.Select, label="Into the project")

    def __init__(self, *args: Any, projects: Iterable[Project], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Choose one of your projects"), *((p.slug, p.name) for p in projects)]
        self.fields["project"].widget.choices = choices
