"""The field rules of projects, read by their forms (pages) and their serializers (API) alike."""

from __future__ import annotations

PROJECT_NAME_MAX_CHARS = 120
PROJECT_SLUG_MAX_CHARS = 100
PROJECT_TEXT_MAX_CHARS = 5000  # business objective, intended users, out-of-scope uses
USERNAME_MAX_CHARS = 150
