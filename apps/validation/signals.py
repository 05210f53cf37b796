"""Signals validation sends, so the apps built on it can react without validation importing them."""

from __future__ import annotations

from django.dispatch import Signal

# A scheduled run ended other than succeeded; sent inside the transaction that records its outcome,
# with keyword arguments run=<ValidationRun> and counts=<dict[str, int]> (results per status).
scheduled_run_checked = Signal()
