from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_save

from apps.core import panels


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "MLflow bridge"

    def ready(self) -> None:
        # The guard and write-back follow every audited state change; the gate resolves models:/ references.
        from apps.audit.models import AuditEvent  # noqa: PLC0415 - models exist once the app registry is ready
        from apps.integrations.receivers import follow_audit_event  # noqa: PLC0415 - as above
        from apps.integrations.references import SCHEME, resolve_mlflow_model  # noqa: PLC0415 - as above
        from apps.workflows import references  # noqa: PLC0415 - as above

        post_save.connect(follow_audit_event, sender=AuditEvent, dispatch_uid="integrations.follow_audit_event")
        references.register(SCHEME, resolve_mlflow_model)

        # The registry's model and version pages show the MLflow side without importing this app.
        # Owners see on their project's page what waits for them in the intake list.
        from apps.integrations.selectors import (  # noqa: PLC0415 - imports models
            model_panel,
            project_intake_panel,
            version_panel,
        )

        panels.contribute("registry.model", model_panel)
        panels.contribute("registry.version", version_panel)
        panels.contribute("projects.project", project_intake_panel)
