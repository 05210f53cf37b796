"""Every governed change of the approval workflows, one module per concern.

Every change checks permission and segregation of duties (not only in pages), writes its audit
event, and happens in one transaction that locks what it changes. Callers keep writing
``from apps.workflows import services`` and ``services.review_decide(...)``: the public names of the
modules are re-exported here, with the reads callers used to find here (the evidence digest, the gate,
the policy in force, the sign-off refusal). The stage rules are in ``apps.workflows.stages``.
"""

from __future__ import annotations

from apps.workflows.evidence import evidence_digest
from apps.workflows.gate import GateAnswer, gate_check
from apps.workflows.permissions import sign_off_refusal
from apps.workflows.readiness import policy_in_force
from apps.workflows.services.decisions import review_decide
from apps.workflows.services.delegation import review_delegate
from apps.workflows.services.deployments import deployment_record
from apps.workflows.services.findings import (
    FINDING_FIELDS,
    UNSET,
    finding_raise,
    finding_raise_automatic,
    finding_raise_for_scheduled_run,
    finding_raise_unapproved,
    finding_update,
)
from apps.workflows.services.policies import STAGE_KEYS, policy_publish
from apps.workflows.services.reminders import workflow_reminders
from apps.workflows.services.retirement import version_retire
from apps.workflows.services.submission import version_submit

__all__ = [
    "FINDING_FIELDS",
    "STAGE_KEYS",
    "UNSET",
    "GateAnswer",
    "deployment_record",
    "evidence_digest",
    "finding_raise",
    "finding_raise_automatic",
    "finding_raise_for_scheduled_run",
    "finding_raise_unapproved",
    "finding_update",
    "gate_check",
    "policy_in_force",
    "policy_publish",
    "review_decide",
    "review_delegate",
    "sign_off_refusal",
    "version_retire",
    "version_submit",
    "workflow_reminders",
]
