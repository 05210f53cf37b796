"""The default approval policy of each risk tier (data; a change is a new policy version)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from apps.workflows.policies import DEFAULT_POLICIES


def create_defaults(apps: Any, schema_editor: Any) -> None:
    policy = apps.get_model("workflows", "ApprovalPolicy")
    for tier, fields in DEFAULT_POLICIES.items():
        policy.objects.update_or_create(tier=tier, version=1, defaults={**fields, "is_current": True})


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
