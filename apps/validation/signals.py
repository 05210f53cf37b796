"""Signals the validation app sends, so the apps above it can react without validation importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with keyword arguments run=<ValidationRun>, counts=<dict[str, int]> where a scheduled run's
# result needs a finding (it failed, or could not run).
scheduled_run_checked = Signal()
