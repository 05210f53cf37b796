"""One FilterSet per workflow list (django-filter): the API endpoints read them, and so will any page listing them."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from apps.workflows import selectors
from apps.workflows.models import Finding, Review

ASSIGNED_ONLY_ME = "Use assigned=me, or leave it out for every review."


class ReviewFilterForm(forms.Form):
    def clean_assigned(self) -> str:
        # Silently listing everything for an unknown value would read as "all of these are yours",
        # and an empty ``assigned=`` is as unknown as ``assigned=you``.
        if "assigned" in self.data and self.data.get("assigned") != "me":
            raise forms.ValidationError(ASSIGNED_ONLY_ME)
        return str(self.cleaned_data.get("assigned") or "")


class ReviewFilter(django_filters.FilterSet):
    """``assigned=me``: the reviews waiting for the requesting person's decision now."""

    assigned = django_filters.CharFilter(method="filter_assigned", help_text="me: waiting for your decision")

    class Meta:
        model = Review
        fields: list[str] = []
        form = ReviewFilterForm

    def filter_assigned(self, queryset: QuerySet[Review], name: str, value: str) -> QuerySet[Review]:
        waiting = [review.pk for review in selectors.reviews_waiting_for(self._user())]
        return queryset.filter(pk__in=waiting)

    def _user(self) -> Any:
        return getattr(self.request, "user", None)


class FindingFilter(django_filters.FilterSet):
    """``status``: findings in that status; ``owner=me``: those the requesting person owns."""

    status = django_filters.CharFilter(field_name="status", help_text="open, remediated, accepted or closed")
    owner = django_filters.CharFilter(method="filter_owner", help_text="me: the findings you own")

    class Meta:
        model = Finding
        fields: list[str] = []

    def filter_owner(self, queryset: QuerySet[Finding], name: str, value: str) -> QuerySet[Finding]:
        if value != "me":  # another value filters nothing, as it always did
            return queryset
        return queryset.filter(owner=getattr(self.request, "user", None))
