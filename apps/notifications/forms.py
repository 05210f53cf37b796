from __future__ import annotations

from django import forms

from apps.notifications.choices import Event


class WebhookForm(forms.Form):
    url = forms.CharField(max_length=500, label="Receiver address", help_text="https://… that accepts a JSON POST")
    events = forms.MultipleChoiceField(choices=Event.choices, widget=forms.CheckboxSelectMultiple, label="Events")
    description = forms.CharField(max_length=200, required=False)
