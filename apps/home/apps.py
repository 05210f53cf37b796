from __future__ import annotations

from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The pages and commands that bring several apps together: the home page, the demo organisation."""

    name = "apps.home"
    label = "home"
    verbose_name = "Signet home"
