"""Sections one app contributes to another app's page, so the page's app need not import it.

The version page belongs to the registry, yet shows the review (workflows) and the validation runs
(validation), which build on the registry. Importing them from the registry's views would close an
import cycle; instead each contributing app registers a builder in its ``AppConfig.ready`` and the
page asks for the context of all contributions::

    # apps/workflows/apps.py, in ready()
    panels.contribute("registry.version", workflow_panel)

    # apps/registry/views/versions.py
    context.update(panels.context_for("registry.version", user=request.user, version=version))

A builder takes the page's objects as keyword arguments and returns template context; two builders
of one page must not return the same key (a page would silently show one of them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PanelBuilder = Callable[..., dict[str, Any]]

_builders: dict[str, list[PanelBuilder]] = {}


def contribute(page: str, builder: PanelBuilder) -> None:
    """Register ``builder`` for ``page``; registering the same builder twice keeps one."""
    builders = _builders.setdefault(page, [])
    if builder not in builders:
        builders.append(builder)


def context_for(page: str, **objects: Any) -> dict[str, Any]:
    """Return the merged context of every builder contributed to ``page``."""
    context: dict[str, Any] = {}
    for builder in _builders.get(page, []):
        part = builder(**objects)
        clash = context.keys() & part.keys()
        if clash:
            raise RuntimeError(f"Two sections of the page {page!r} both provide {sorted(clash)}.")
        context.update(part)
    return context
