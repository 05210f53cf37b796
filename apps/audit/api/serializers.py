from __future__ import annotations

from apps.audit.models import AuditEvent
from apps.audit.selectors import CHAIN_COLUMNS
from apps.core.api import strict


class AuditEventSerializer(strict.ModelSerializer[AuditEvent]):
    class Meta:
        model = AuditEvent
        fields = CHAIN_COLUMNS
        read_only_fields = fields
