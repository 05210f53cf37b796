"""The audit trail's filters, shared by the auditor's page, the exports and the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class AuditFilterForm(forms.Form):
    since = forms.DateTimeField(required=False, label="From", help_text="UTC, for example 2026-11-01 08:00")
    until = forms.DateTimeField(required=False, label="Until")
    actor = forms.CharField(required=False, max_length=150, label="Actor (username)")
    action = forms.CharField(
        required=False, max_length=100, label="Action", help_text="Exact, or a prefix ending in a dot: accounts."
    )
    target_type = forms.CharField(required=False, max_length=100, label="Object type", help_text="accounts.user")
    target_id = forms.CharField(required=False, max_length=64, label="Object id")
    project = forms.CharField(required=False, max_length=100, label="Project (slug)")
    request_id = forms.CharField(required=False, max_length=64, label="Request id")

    def _clean_moment(self, name: str) -> datetime | None:
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Enter a date between the years 1 and 9999.") from None

    def clean_since(self) -> datetime | None:
        return self._clean_moment("since")

    def clean_until(self) -> datetime | None:
        return self._clean_moment("until")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise ValidationError({"until": "“Until” must be after “From”."})
        return data

    def active_filters(self) -> dict[str, Any]:
        """Return only the filters that were given, as plain text (for links and audit records)."""
        return {key: value for key, value in self.data.items() if key in self.fields and value}
