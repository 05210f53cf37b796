"""The REST API: authentication, deny-by-default permissions, pagination, throttles and the schema."""

from __future__ import annotations

from portal.env import env_rate

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: every API view names the permission it needs.
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.permissions.DenyAll"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.JSONBodyParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    # ``?format=`` is ours (audit export as csv or jsonl), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rates are read from SIGNET_API_RATES when a request is checked (apps/core/api/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.api.throttles.TokenRateThrottle",
        "apps.core.api.throttles.AddressRateThrottle",
    ],
}
SIGNET_API_RATES = {
    "token": env_rate("API_RATE_PER_TOKEN", "1200/minute"),
    "address": env_rate("API_RATE_PER_ADDRESS", "300/minute"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Signet API",
    "DESCRIPTION": "Govern machine-learning models: projects, registry, reviews, validation, audit.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProjectStatusEnum": "apps.projects.choices.ProjectStatus",
        "VersionStatusEnum": "apps.registry.choices.VersionStatus",
        "RiskTierEnum": "apps.projects.choices.RiskTier",
        "ProjectRoleEnum": "apps.projects.choices.ProjectRole",
        "DecisionKindEnum": "apps.workflows.choices.DecisionKind",
        "FindingKindEnum": "apps.workflows.choices.FindingType",
        "FindingStatusEnum": "apps.workflows.choices.FindingStatus",
        "ReviewStatusEnum": "apps.workflows.choices.ReviewStatus",
        "NotificationEventEnum": "apps.notifications.choices.Event",
        "BatchKindEnum": "apps.monitoring.choices.BatchKind",
        "WindowSizeEnum": "apps.monitoring.choices.WindowSize",
        "SourceFileStatusEnum": "apps.monitoring.choices.SourceFileStatus",
    },
}
