"""Validation builds on the registry and below; what builds on it (workflows, the portal) it never imports."""

from __future__ import annotations

import grimp

ABOVE = ("apps.workflows", "portal")


def test_no_module_of_validation_imports_workflows_or_the_portal() -> None:
    graph = grimp.build_graph("apps", "portal")
    modules = {"apps.validation", *graph.find_descendants("apps.validation")}
    reached = sorted(
        (module, imported)
        for module in modules
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith(ABOVE)
    )
    assert reached == []
