"""A small client of MLflow's REST API: what the bridge reads and the few things it writes.

Signet needs no ``mlflow`` package: the registry, runs, aliases, tags and the artifact proxy are
plain JSON over HTTP (docs/mlflow-bridge-research.md has the calls and what was checked on a real
server). Every failure becomes ``MlflowError`` with a sentence a person can read, and the HTTP status
where there was one, so callers decide between "try again later" and "this is gone".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from apps.integrations.choices import AuthKind

PAGE_SIZE = 1000  # registered-models/search refuses more than 1000 per page
CHUNK = 1024 * 1024
TIMEOUT = (5, 60)  # seconds to connect, then between bytes
MAX_JSON_BYTES = 64 * 1024 * 1024  # a search page of 1000 versions is a few MB; more is not MLflow


class MlflowError(Exception):
    """A call to MLflow failed. ``status`` is the HTTP status, None when no answer came at all."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    @property
    def not_found(self) -> bool:
        return self.status == 404 or self.code == "RESOURCE_DOES_NOT_EXIST"

    @property
    def transient(self) -> bool:
        """Worth trying again later: no answer, a timeout, throttling or a server error."""
        return self.status is None or self.status == 429 or self.status >= 500


@dataclass(frozen=True)
class Credentials:
    kind: str = AuthKind.NONE
    username: str = ""
    secret: str = ""


def _tags(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {str(t.get("key", "")): str(t.get("value", "")) for t in items or [] if t.get("key")}


class MlflowClient:
    """One tracking server. Keeps a connection pool; close it (or use ``with``) when done."""

    def __init__(self, url: str, credentials: Credentials | None = None, *, timeout: Any = TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or netrc from the worker's environment
        creds = credentials or Credentials()
        if creds.kind == AuthKind.BASIC:
            self.session.auth = (creds.username, creds.secret)
        elif creds.kind == AuthKind.TOKEN:
            self.session.headers["Authorization"] = f"Bearer {creds.secret}"
        self.session.headers["User-Agent"] = "signet-mlflow-bridge"

    def __enter__(self) -> MlflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    # --- transport --------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, f"{self.url}{path}", timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise MlflowError(f"MLflow at {self.url} did not answer in time.") from None
        except requests.ConnectionError:
            raise MlflowError(f"MLflow at {self.url} cannot be reached.") from None
        except requests.RequestException as exc:
            raise MlflowError(f"MLflow at {self.url} could not be asked: {type(exc).__name__}.") from None
        return response

    def call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        """Call ``/api/2.0/mlflow/<endpoint>`` and return its JSON object."""
        response = self._request(method, f"/api/2.0/mlflow/{endpoint}", **kwargs)
        if response.status_code in {401, 403}:
            raise MlflowError(
                f"MLflow refused Signet's credentials ({response.status_code}).", status=response.status_code
            )
        body = self._json(response)
        if response.status_code >= 400:
            code = str(body.get("error_code", "")) if isinstance(body, dict) else ""
            detail = str(body.get("message", "")) if isinstance(body, dict) else ""
            raise MlflowError(
                f"MLflow answered {response.status_code} to {endpoint}" + (f": {detail[:300]}" if detail else "."),
                status=response.status_code,
                code=code,
            )
        if not isinstance(body, dict):
            raise MlflowError(f"MLflow answered {endpoint} with something that is not a JSON object.")
        return body

    def _json(self, response: requests.Response) -> Any:
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > MAX_JSON_BYTES:
            raise MlflowError("MLflow's answer is larger than Signet reads.", status=response.status_code)
        if not response.content:
            return {}
        try:
            return json.loads(response.content)
        except ValueError:
            if response.status_code >= 400:
                return {}
            raise MlflowError(
                f"MLflow answered with something that is not JSON ({response.status_code}).",
                status=response.status_code,
            ) from None

    # --- health -------------------------------------------------------------------------------
    def health(self) -> bool:
        """Whether ``/health`` answers OK (it needs no credentials)."""
        try:
            response = self._request("GET", "/health")
        except MlflowError:
            return False
        return response.status_code == 200

    def server_version(self) -> str:
        try:
            response = self._request("GET", "/version")
        except MlflowError:
            return ""
        return response.text.strip()[:40] if response.status_code == 200 else ""

    # --- registry -------------------------------------------------------------------------------
    def search_models_page(self, page_token: str = "", *, max_results: int = PAGE_SIZE) -> dict[str, Any]:
        params: dict[str, Any] = {"max_results": max_results, "order_by": "name ASC"}
        if page_token:
            params["page_token"] = page_token
        return self.call("GET", "registered-models/search", params=params)

    def search_models(self, *, max_results: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every registered model, in name order, one page at a time."""
        token = ""
        while True:
            page = self.search_models_page(token, max_results=max_results)
            yield from page.get("registered_models", []) or []
            token = str(page.get("next_page_token") or "")
            if not token:
                return

    def search_versions_page(
        self, page_token: str = "", *, name: str | None = None, max_results: int = PAGE_SIZE
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"max_results": max_results, "order_by": ["name ASC", "version_number ASC"]}
        if name is not None:
            params["filter"] = f"name = '{_quoted(name)}'"
        if page_token:
            params["page_token"] = page_token
        return self.call("GET", "model-versions/search", params=params)

    def search_versions(self, *, name: str | None = None, max_results: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every version (of one model when ``name`` is given), ordered by model name then number."""
        token = ""
        while True:
            page = self.search_versions_page(token, name=name, max_results=max_results)
            yield from page.get("model_versions", []) or []
            token = str(page.get("next_page_token") or "")
            if not token:
                return

    def get_model(self, name: str) -> dict[str, Any]:
        return dict(self.call("GET", "registered-models/get", params={"name": name}).get("registered_model") or {})

    def get_version(self, name: str, version: int | str) -> dict[str, Any]:
        body = self.call("GET", "model-versions/get", params={"name": name, "version": str(version)})
        return dict(body.get("model_version") or {})

    def download_uri(self, name: str, version: int | str) -> str:
        body = self.call("GET", "model-versions/get-download-uri", params={"name": name, "version": str(version)})
        return str(body.get("artifact_uri") or "")

    def get_run(self, run_id: str) -> dict[str, Any]:
        return dict(self.call("GET", "runs/get", params={"run_id": run_id}).get("run") or {})

    def get_logged_model(self, model_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"logged-models/{quote(model_id, safe='')}").get("model") or {})

    def set_version_tag(self, name: str, version: int | str, key: str, value: str) -> None:
        self.call(
            "POST", "model-versions/set-tag", json={"name": name, "version": str(version), "key": key, "value": value}
        )

    def delete_version_tag(self, name: str, version: int | str, key: str) -> None:
        self.call("DELETE", "model-versions/delete-tag", json={"name": name, "version": str(version), "key": key})

    def get_alias(self, name: str, alias: str) -> int | None:
        """The version number ``name@alias`` points at now; None when the alias is not set."""
        try:
            body = self.call("GET", "registered-models/alias", params={"name": name, "alias": alias})
        except MlflowError as exc:
            if exc.not_found or exc.code == "INVALID_PARAMETER_VALUE":
                return None
            raise
        number = str((body.get("model_version") or {}).get("version", ""))
        return int(number) if number.isdigit() else None

    def set_alias(self, name: str, alias: str, version: int | str) -> None:
        self.call("POST", "registered-models/alias", json={"name": name, "alias": alias, "version": str(version)})

    def delete_alias(self, name: str, alias: str) -> None:
        self.call("DELETE", "registered-models/alias", json={"name": name, "alias": alias})

    def list_webhooks(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "webhooks", params={"max_results": 1000}).get("webhooks") or [])

    # --- artifacts ------------------------------------------------------------------------------
    def list_artifacts(self, path: str) -> list[dict[str, Any]]:
        """Files under ``path`` of the artifact proxy (``mlflow-artifacts:/<path>``)."""
        response = self._request("GET", "/api/2.0/mlflow-artifacts/artifacts", params={"path": path})
        if response.status_code >= 400:
            raise MlflowError(f"MLflow's artifact proxy answered {response.status_code}.", status=response.status_code)
        body = self._json(response)
        return list(body.get("files") or []) if isinstance(body, dict) else []

    def stream_artifact(self, path: str, digest: Any) -> int:
        """Feed the file at ``path`` of the artifact proxy into ``digest`` chunk by chunk; return its size."""
        url = f"/api/2.0/mlflow-artifacts/artifacts/{quote(path.strip('/'))}"
        try:
            with self.session.get(f"{self.url}{url}", timeout=self.timeout, stream=True) as response:
                if response.status_code >= 400:
                    raise MlflowError(
                        f"MLflow's artifact proxy answered {response.status_code} for {path}.",
                        status=response.status_code,
                    )
                size = 0
                for chunk in response.iter_content(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                return size
        except requests.RequestException:
            raise MlflowError(f"MLflow's artifact proxy stopped sending {path}.") from None


def _quoted(value: str) -> str:
    """A value inside single quotes of an MLflow filter."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def tags_of(entity: dict[str, Any]) -> dict[str, str]:
    """MLflow's ``[{key, value}]`` tags as a mapping."""
    return _tags(entity.get("tags"))


def aliases_of(entity: dict[str, Any]) -> dict[str, int]:
    """A registered model's ``[{alias, version}]`` as alias -> version number."""
    result: dict[str, int] = {}
    for item in entity.get("aliases") or []:
        alias, version = item.get("alias"), str(item.get("version", ""))
        if alias and version.isdigit():
            result[str(alias)] = int(version)
    return result
