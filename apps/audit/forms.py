"""The form rules of the audit trail's filters, shared by the auditor's page, the exports and the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class AuditFilterForm(forms.Form):
    """The rules the filters share; ``AuditEventFilter`` (apps/audit/filters.py) declares the fields."""

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
