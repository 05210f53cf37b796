"""What the registry's pages share: the status of a form page and the reading of query parameters."""

from __future__ import annotations

from django.http import HttpRequest


def form_status(request: HttpRequest) -> int:
    """A form sent back with errors is a 400; the empty form is a 200."""
    return 400 if request.method == "POST" else 200


def query_params(request: HttpRequest, *names: str) -> dict[str, str]:
    return {name: request.GET.get(name, "").strip()[:100] for name in names}
