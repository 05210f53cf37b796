"""The catalogue of audit actions: one place, and nothing outside it gets recorded."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.db import transaction

from apps.audit.actions import Action, is_known
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record

APPS = Path(__file__).resolve().parents[2] / "apps"
DOTTED = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
NAMESPACES = (
    "accounts",
    "audit",
    "integrations",
    "monitoring",
    "notifications",
    "projects",
    "registry",
    "validation",
    "workflows",
)


def _action_literals() -> set[tuple[str, str]]:
    """Every string literal in apps/ that looks like an action name of one of the apps."""
    found = set()
    for path in APPS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value
                if DOTTED.match(value) and value.split(".", 1)[0] in NAMESPACES and value.count(".") >= 1:
                    found.add((value, str(path.relative_to(APPS.parent))))
    return found


def test_every_member_is_a_dotted_name_of_its_app() -> None:
    for member in Action:
        assert DOTTED.match(member.value), member
        assert member.value.split(".", 1)[0] in NAMESPACES, member
    assert len({member.value for member in Action}) == len(Action)


@pytest.mark.django_db
def test_an_unknown_action_is_refused_and_nothing_is_recorded() -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="not in the catalogue"), transaction.atomic():
        audit_record(actor=None, action="workflows.review.reopened")
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_a_member_is_stored_as_its_plain_value() -> None:
    with transaction.atomic():
        event = audit_record(actor=None, action=Action.TRAIL_EXPORTED)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.action == "audit.trail.exported"
    assert type(stored.action) is str


def test_no_action_name_in_the_code_is_missing_from_the_catalogue() -> None:
    """A literal such as "registry.model.archived" typed into a service would only fail when reached."""
    unknown = sorted(
        (value, where)
        for value, where in _action_literals()
        # Module paths and setting-like names share the shape; actions have three parts or are sign_out.
        if (value.count(".") == 2 or value == "accounts.sign_out") and not is_known(value)
    )
    assert unknown == []


def test_the_test_namespace_is_open_only_to_the_test_settings(settings) -> None:
    assert is_known("test.event.recorded")
    settings.AUDIT_TEST_ACTION_NAMESPACES = ()
    assert not is_known("test.event.recorded")
