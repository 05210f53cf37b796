"""OpenAPI conventions every operation shares: the error answers it can give, in the one error shape.

Registered as a drf-spectacular post-processing hook, so no view can forget to declare them
(docs/decisions/0014).
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The API's one error shape.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "machine-readable, such as invalid or not_found"},
                "message": {"type": "string", "description": "what went wrong, for a person"},
                "details": {"description": "per field (or parameter) messages where the input was invalid"},
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}

# Status code, description, and whether only operations that take a request body can answer it.
ERRORS: list[tuple[str, str, bool]] = [
    ("400", "Invalid input: a field, parameter or body Signet cannot use; nothing changed.", False),
    ("401", "No valid credentials: send Authorization: Bearer <token>.", False),
    ("403", "Signed in, but not allowed to do this.", False),
    ("404", "Not found, or not visible to you.", False),
    ("405", "This method is not offered here.", False),
    ("406", "The Accept header asks for a format Signet does not answer in.", False),
    ("413", "The request body is too large.", True),
    ("415", "The body is not in a media type this operation reads.", True),
    ("429", "Too many calls with this token (or from this address); wait the seconds Retry-After says.", False),
]


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Declare the error answers on every operation, referring to one ``Error`` component."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description, needs_body in ERRORS:
                if needs_body and "requestBody" not in operation:
                    continue
                responses.setdefault(status, {"description": description, "content": reference})
    return result
