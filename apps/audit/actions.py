"""Every action the audit trail records, in one place.

A service names what it did with one of these constants (``action=Action.REVIEW_OPENED``);
``audit_record`` refuses any other name, so a misspelt or new action fails the first test that
reaches it instead of quietly starting a new kind of event that no filter, export or reader knows.
The values are what the trail stores and what readers filter on: never rename one that is in use,
add a new member instead. DESIGN.md section 8 describes the events; docs/audit.md the trail.
"""

# ruff: noqa: S105 -- "token" and "password" in these names are actions on them, not secrets
from __future__ import annotations

from enum import StrEnum

from django.conf import settings


class Action(StrEnum):
    # accounts
    API_TOKEN_CREATED = "accounts.api_token.created"
    API_TOKEN_REVOKED = "accounts.api_token.revoked"
    SIGN_IN_FAILED = "accounts.sign_in.failed"
    SIGN_IN_SUCCEEDED = "accounts.sign_in.succeeded"
    SIGN_OUT = "accounts.sign_out"
    TEAM_CREATED = "accounts.team.created"
    TEAM_UPDATED = "accounts.team.updated"
    USER_CREATED = "accounts.user.created"
    USER_PASSWORD_CHANGED = "accounts.user.password_changed"
    USER_PASSWORD_DISABLED = "accounts.user.password_disabled"
    USER_UPDATED = "accounts.user.updated"
    # audit
    CHAIN_BROKEN = "audit.chain.broken"
    CHAIN_VERIFIED = "audit.chain.verified"
    CHECKPOINT_SIGNED = "audit.checkpoint.signed"
    TRAIL_EXPORTED = "audit.trail.exported"
    # integrations (the MLflow bridge)
    MLFLOW_CONNECTION_CREATED = "integrations.connection.created"
    MLFLOW_CONNECTION_RECONCILE_REQUESTED = "integrations.connection.reconcile_requested"
    MLFLOW_CONNECTION_TESTED = "integrations.connection.tested"
    MLFLOW_CONNECTION_UPDATED = "integrations.connection.updated"
    # the shadow-deployment guard and write-back
    MLFLOW_ALIASES_CHANGED = "integrations.aliases.changed"
    MLFLOW_ALIAS_RESTORE_FAILED = "integrations.alias.restore_failed"
    MLFLOW_ALIAS_RESTORED = "integrations.alias.restored"
    MLFLOW_ALIAS_UNAPPROVED = "integrations.alias.unapproved"
    MLFLOW_TAGS_WRITTEN = "integrations.version.tags_written"
    MLFLOW_WEBHOOK_RECEIVED = "integrations.webhook.received"
    # (the sync: a model claimed from the intake list; models and versions gone from MLflow, or back)
    MLFLOW_MODEL_CLAIMED = "integrations.model.claimed"
    MLFLOW_MODEL_GONE = "integrations.model.gone"
    MLFLOW_MODEL_RETURNED = "integrations.model.returned"
    MLFLOW_VERSION_GONE = "integrations.version.gone"
    MLFLOW_VERSION_RETURNED = "integrations.version.returned"
    # monitoring
    MONITOR_BATCH_PROFILED = "monitoring.batch.profiled"
    MONITOR_BATCH_QUARANTINED = "monitoring.batch.quarantined"
    MONITOR_BATCH_RECEIVED = "monitoring.batch.received"
    MONITOR_BATCH_RAW_DELETED = "monitoring.batch.raw_deleted"
    MONITOR_BATCH_STARTED = "monitoring.batch.profiling_started"
    MONITOR_BREACH_OPENED = "monitoring.breach.opened"
    MONITOR_BREACH_RECOVERED = "monitoring.breach.recovered"
    MONITOR_CREATED = "monitoring.monitor.created"
    MONITOR_FEED_LATE = "monitoring.monitor.feed_late"
    MONITOR_FEED_RESUMED = "monitoring.monitor.feed_resumed"
    MONITOR_KPI_LINKED = "monitoring.kpi_actual.linked"
    # (a monitor's source: set, a reading asked for, unreadable or readable again, a file refused)
    MONITOR_INGEST_REQUESTED = "monitoring.monitor.ingest_requested"
    MONITOR_SOURCE_FILE_REFUSED = "monitoring.source_file.refused"
    MONITOR_SOURCE_READABLE = "monitoring.monitor.source_readable"
    MONITOR_SOURCE_SET = "monitoring.monitor.source_set"
    MONITOR_SOURCE_UNREADABLE = "monitoring.monitor.source_unreadable"
    # notifications
    WEBHOOK_CREATED = "notifications.webhook.created"
    WEBHOOK_SECRET_REPLACED = "notifications.webhook.secret_replaced"
    WEBHOOK_UPDATED = "notifications.webhook.updated"
    # projects
    COMMENT_ADDED = "projects.comment.added"
    DATA_NEED_CREATED = "projects.data_need.created"
    DATA_NEED_UPDATED = "projects.data_need.updated"
    KPI_CREATED = "projects.kpi.created"
    KPI_MEASURED = "projects.kpi.measured"
    MEMBERSHIP_ADDED = "projects.membership.added"
    MEMBERSHIP_REMOVED = "projects.membership.removed"
    PROJECT_CREATED = "projects.project.created"
    PROJECT_TIER_CHANGED = "projects.project.tier_changed"
    PROJECT_UPDATED = "projects.project.updated"
    QUALIFICATION_SUBMITTED = "projects.qualification.submitted"
    QUESTIONNAIRE_CREATED = "projects.questionnaire.created"
    # registry
    DATASET_CREATED = "registry.dataset.created"
    DATASET_UPDATED = "registry.dataset.updated"
    DATASET_VERSION_CREATED = "registry.dataset_version.created"
    MODEL_CREATED = "registry.model.created"
    MODEL_UPDATED = "registry.model.updated"
    MODEL_CARD_UPDATED = "registry.model_card.updated"
    VERSION_CREATED = "registry.model_version.created"
    VERSION_RETIRED = "registry.model_version.retired"
    VERSION_SUBMITTED = "registry.model_version.submitted"
    VERSION_UPDATED = "registry.model_version.updated"
    # validation
    RUN_CREATED = "validation.run.created"
    RUN_FINISHED = "validation.run.finished"
    RUN_REQUEUED = "validation.run.requeued"
    RUN_STARTED = "validation.run.started"
    SUITE_CREATED = "validation.suite.created"
    # workflows
    DECISION_RECORDED = "workflows.decision.recorded"
    DEPLOYMENT_RECORDED = "workflows.deployment.recorded"
    FINDING_RAISED = "workflows.finding.raised"
    FINDING_UPDATED = "workflows.finding.updated"
    POLICY_CREATED = "workflows.policy.created"
    POLICY_PUBLISHED = "workflows.policy.published"
    REVIEW_CLOSED = "workflows.review.closed"
    REVIEW_DELEGATED = "workflows.review.delegated"
    REVIEW_OPENED = "workflows.review.opened"
    REVIEW_WITHDRAWN = "workflows.review.withdrawn"


def is_known(action: str) -> bool:
    """Whether ``action`` is in the catalogue (or, in the test suite only, in its own namespaces).

    ``AUDIT_TEST_ACTION_NAMESPACES`` is set by tests/settings.py alone, for the tests of the chain
    itself, which record made-up events such as ``test.event.recorded``.
    """
    if action in Action._value2member_map_:
        return True
    namespaces = getattr(settings, "AUDIT_TEST_ACTION_NAMESPACES", ())
    return action.split(".", 1)[0] in namespaces
