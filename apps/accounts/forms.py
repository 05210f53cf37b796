from __future__ import annotations

from django import forms
from django.conf import settings


class SignInForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(
        max_length=4096, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, such as “release pipeline”.")
    days = forms.IntegerField(
        min_value=1,
        max_value=settings.SIGNET_API_TOKEN_MAX_DAYS,
        initial=settings.SIGNET_API_TOKEN_DEFAULT_DAYS,
        label="Valid for (days)",
    )
