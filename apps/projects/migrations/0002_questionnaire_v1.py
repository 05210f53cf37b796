"""The first version of the risk questionnaire (questions are data; a change is a new version)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from apps.projects.questionnaires import V1_HIGH_FROM, V1_MEDIUM_FROM, V1_QUESTIONS


def create_v1(apps: Any, schema_editor: Any) -> None:
    questionnaire = apps.get_model("projects", "Questionnaire")
    questionnaire.objects.update_or_create(
        version=1,
        defaults={
            "questions": V1_QUESTIONS,
            "high_from": V1_HIGH_FROM,
            "medium_from": V1_MEDIUM_FROM,
            "is_current": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [migrations.RunPython(create_v1, migrations.RunPython.noop)]
