"""The peer of Signet's reconcile: page MLflow's own search API, and nothing else.

    .venv/bin/python bench/mlflow_page.py --url http://127.0.0.1:5000 --out page.json

The calls Signet's reconcile makes, with the same parameters (apps/integrations/mlflow_client.py):
every page of ``registered-models/search`` (1000 per page, ``order_by=name ASC``), then every page of
``model-versions/search`` (1000 per page, ``order_by=name ASC, version_number ASC``), one after the
other on one pooled ``requests`` session, each response's JSON decoded, as any client must. Timed
inside the process, from the first call to the last decoded page.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import requests

PAGE = 1000


def page_all(session: requests.Session, url: str, endpoint: str, key: str, params: dict[str, Any]) -> tuple[int, int]:
    """Every page of one search; returns (pages, items)."""
    pages = items = 0
    token = ""
    while True:
        query = {**params, "max_results": PAGE, **({"page_token": token} if token else {})}
        response = session.get(f"{url}/api/2.0/mlflow/{endpoint}", params=query, timeout=(5, 120))
        response.raise_for_status()
        body = response.json()
        pages += 1
        items += len(body.get(key) or [])
        token = str(body.get("next_page_token") or "")
        if not token:
            return pages, items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with requests.Session() as session:
        started = time.perf_counter()
        model_pages, models = page_all(
            session, args.url, "registered-models/search", "registered_models", {"order_by": "name ASC"}
        )
        models_s = time.perf_counter() - started
        version_pages, versions = page_all(
            session,
            args.url,
            "model-versions/search",
            "model_versions",
            {"order_by": ["name ASC", "version_number ASC"]},
        )
        elapsed = time.perf_counter() - started
    report = {
        "pass_s": elapsed,
        "models_s": models_s,
        "versions_s": elapsed - models_s,
        "pages": model_pages + version_pages,
        "models": models,
        "versions": versions,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
