from __future__ import annotations

from apps.audit.models import AuditEvent
from apps.core.api import strict


class AuditEventSerializer(strict.ModelSerializer[AuditEvent]):
    class Meta:
        model = AuditEvent
        fields = (
            "seq",
            "occurred_at",
            "actor_id",
            "actor_name",
            "actor_roles",
            "auth_method",
            "request_id",
            "ip",
            "project_pk",
            "project_slug",
            "target_type",
            "target_id",
            "target_repr",
            "action",
            "changes",
            "data",
            "prev_hash",
            "hash",
        )
        read_only_fields = fields
