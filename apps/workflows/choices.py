from __future__ import annotations

from django.db import models


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Waiting for decisions"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ReviewKind(models.TextChoices):
    SUBMISSION = "submission", "Submission"
    RECERTIFICATION = "recertification", "Re-certification"


class DecisionKind(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_CHANGES = "request_changes", "Request changes"


class FindingType(models.TextChoices):
    VALIDATION_ISSUE = "validation_issue", "Validation issue"
    POLICY_EXCEPTION = "policy_exception", "Policy exception"
    MODEL_LIMITATION = "model_limitation", "Model limitation"
    # Raised by Signet when a pipeline reports a deployment the gate would have refused.
    UNAPPROVED_DEPLOYMENT = "unapproved_deployment", "Unapproved deployment"


class FindingSeverity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    REMEDIATED = "remediated", "Remediated"
    ACCEPTED = "accepted", "Accepted"
    CLOSED = "closed", "Closed"


BLOCKING_SEVERITIES = frozenset({FindingSeverity.HIGH, FindingSeverity.CRITICAL})
