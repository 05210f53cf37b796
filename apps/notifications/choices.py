from __future__ import annotations

from django.db import models


class Event(models.TextChoices):
    """What happened; the kind of a notification and the type a webhook subscribes to."""

    REVIEW_WAITING = "review.waiting", "A review waits for a decision"
    REVIEW_DECIDED = "review.decided", "A decision was recorded"
    REVIEW_CLOSED = "review.closed", "A review closed"
    FINDING_ASSIGNED = "finding.assigned", "A finding was assigned"
    FINDING_OVERDUE = "finding.overdue", "A finding is overdue"
    RECERTIFICATION_DUE = "recertification.due", "A re-certification is due"
    RECERTIFICATION_OVERDUE = "recertification.overdue", "An approval expired"
    DEPLOYMENT_RECORDED = "deployment.recorded", "A deployment was recorded"
    VERSION_RETIRED = "version.retired", "A version was retired"
    VALIDATION_FINISHED = "validation.finished", "A validation run finished"
    MONITOR_BREACHED = "monitor.breached", "A monitored metric crossed its threshold"
    MONITOR_RECOVERED = "monitor.recovered", "A monitored metric is back within its threshold"
    MONITOR_FEED_LATE = "monitor.feed_late", "A monitor has not been fed for longer than expected"
    KPI_MISSED = "kpi.missed", "A KPI value missed its target"


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "No e-mail address"
    FAILED = "failed", "Failed"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    SENDING = "sending", "Being sent"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Gave up"
