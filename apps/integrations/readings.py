"""What MLflow says, as plain values: the fields the bridge mirrors from a registry search or a run.

Pure functions over MLflow's JSON: no database, no network. The sync compares and stores what they give.
"""

from __future__ import annotations

import json
import math
from typing import Any

from apps.integrations.mlflow_client import tags_of

GIT_COMMIT_TAG = "mlflow.source.git.commit"
DATASET_CONTEXT_TAG = "mlflow.data.context"
MODEL_HISTORY_TAG = "mlflow.log-model.history"
TASK_TAG = "signet.task"


def int_of(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def version_values(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": str(item.get("source") or "")[:1000],
        "run_id": str(item.get("run_id") or "")[:64],
        "user_id": str(item.get("user_id") or "")[:256],
        "status": str(item.get("status") or "")[:40],
        "description": str(item.get("description") or ""),
        "tags": tags_of(item),
        "last_updated_timestamp": int_of(item.get("last_updated_timestamp")),
    }


def model_values(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": str(item.get("description") or ""),
        "tags": tags_of(item),
        "last_updated_timestamp": int_of(item.get("last_updated_timestamp")),
    }


def finite_number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def framework_of(tags: dict[str, str]) -> str:
    """The flavour a run's model-history tag names (MLflow 2 writes it), other than python_function."""
    try:
        history = json.loads(tags.get(MODEL_HISTORY_TAG) or "[]")
    except ValueError:
        return ""
    for entry in history if isinstance(history, list) else []:
        flavors = entry.get("flavors") if isinstance(entry, dict) else None
        for name in flavors or {}:
            if name != "python_function":
                return str(name)[:60]
    return ""


def run_summary(run: dict[str, Any]) -> dict[str, Any]:
    """What the mirror keeps of a run: params, latest metrics (finite numbers), dataset inputs, git commit."""
    info = run.get("info") or {}
    data = run.get("data") or {}
    tags = {str(t.get("key")): str(t.get("value", "")) for t in data.get("tags") or [] if t.get("key")}
    metrics: dict[str, float | int] = {}
    for metric in data.get("metrics") or []:
        value = finite_number(metric.get("value"))
        if metric.get("key") and value is not None:
            metrics[str(metric["key"])] = value
    datasets = []
    for item in (run.get("inputs") or {}).get("dataset_inputs") or []:
        dataset = item.get("dataset") or {}
        context = next((t.get("value") for t in item.get("tags") or [] if t.get("key") == DATASET_CONTEXT_TAG), "")
        datasets.append(
            {
                "name": str(dataset.get("name") or ""),
                "digest": str(dataset.get("digest") or ""),
                "source_type": str(dataset.get("source_type") or ""),
                "source": str(dataset.get("source") or ""),
                "context": str(context or ""),
            }
        )
    return {
        "run_id": str(info.get("run_id") or info.get("run_uuid") or ""),
        "experiment_id": str(info.get("experiment_id") or ""),
        "artifact_uri": str(info.get("artifact_uri") or ""),
        "params": {str(p.get("key")): str(p.get("value", "")) for p in data.get("params") or [] if p.get("key")},
        "metrics": metrics,
        "datasets": datasets,
        "git_commit": tags.get(GIT_COMMIT_TAG, ""),
        "framework": framework_of(tags),
    }
