"""Tasks sent by name (apps/core/queue.py) name tasks that exist."""

from __future__ import annotations

import ast
from pathlib import Path

from portal.celery import app

APPS = Path(__file__).resolve().parents[2] / "apps"


def _names_sent() -> set[str]:
    names = set()
    for path in APPS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "enqueue"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(str(node.args[0].value))
    return names


def test_every_task_sent_by_name_is_registered() -> None:
    app.loader.import_default_modules()
    sent = _names_sent()
    assert "apps.notifications.tasks.deliver_webhook" in sent
    assert sorted(sent - set(app.tasks)) == []


def test_a_task_name_kept_in_a_constant_is_registered() -> None:
    from apps.validation.services.common import EXECUTE_RUN

    app.loader.import_default_modules()
    assert EXECUTE_RUN in app.tasks
