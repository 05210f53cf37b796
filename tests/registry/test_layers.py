"""The registry and projects sit below workflows and validation: they never import them.

Pages that show another app's section ask ``apps.core.panels`` for it (the contributing app registers
a builder in its ``AppConfig.ready``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"
ABOVE = {
    "registry": ("apps.workflows", "apps.validation"),
    "projects": ("apps.registry", "apps.workflows", "apps.validation"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("app", ABOVE)
def test_an_app_imports_nothing_that_builds_on_it(app: str) -> None:
    found = {
        f"{path.relative_to(APPS)}: {name}"
        for path in (APPS / app).rglob("*.py")
        for name in _imports(path)
        if name.startswith(ABOVE[app])
    }
    assert not found, sorted(found)
