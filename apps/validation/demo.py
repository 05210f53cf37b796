"""Demo validation data, a stored suite and a run (seed_demo); the worker of ``make run`` executes it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from apps.accounts.models import User
from apps.registry import services as registry
from apps.registry.models import Dataset, ModelVersion
from apps.validation import services
from apps.validation.models import ValidationSuite

SUITE = {
    "task": "binary_classification",
    "columns": {
        "target": "defaulted",
        "prediction": "predicted_default",
        "score": "pd_score",
        "sensitive": ["age_band"],
        "numeric": ["income", "utilisation", "months_on_book"],
        "categorical": ["region"],
    },
    "checks": "standard",
}


def _scored(rows: int, seed: int, utilisation_shift: float) -> Path:
    """Scored applications: features, the 12-month outcome and the model's score and decision."""
    rng = np.random.default_rng(seed)
    utilisation = np.clip(rng.beta(2, 5, rows) + utilisation_shift, 0, 1)
    income = rng.lognormal(10.6, 0.5, rows).round()
    months = rng.integers(0, 240, rows)
    age_band = rng.choice(np.array(["18-29", "30-44", "45-64", "65+"]), rows, p=[0.2, 0.35, 0.3, 0.15])
    region = rng.choice(np.array(["north", "south", "east", "west"]), rows)
    logit = -3.6 + 7.0 * utilisation - 0.3 * (income / 50_000)
    defaulted = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    score = np.clip(1 / (1 + np.exp(-(logit + rng.normal(0, 0.2, rows)))), 0, 1)
    table = pa.table({
        "age_band": age_band, "region": region, "income": income, "utilisation": utilisation,
        "months_on_book": months, "defaulted": defaulted, "pd_score": score,
        "predicted_default": (score >= 0.3).astype(np.int64),
    })  # fmt: skip
    handle = tempfile.NamedTemporaryFile(suffix=".parquet", delete=False)  # noqa: SIM115 - closed at once
    handle.close()
    pq.write_table(table, handle.name)
    return Path(handle.name)


def seed() -> int:
    """Create the scored datasets, the suite and one queued run once."""
    if ValidationSuite.objects.exists():
        return 0
    developer = User.objects.get(username="developer")
    version = ModelVersion.objects.select_related("model__project").get(model__name="credit-default-pd", number=2)
    project = version.model.project
    dataset = Dataset.objects.filter(project=project, name="Scored applications").first() or registry.dataset_create(
        actor=developer,
        project=project,
        name="Scored applications",
        description="Applications with the model's score and the observed 12-month outcome.",
        source="Model monitoring",
        sensitivity="confidential",
        contains_personal_data=True,
    )
    versions = []
    for name, seed_value, shift in (("scored-2023.parquet", 11, 0.0), ("scored-2025q1.parquet", 12, 0.06)):
        path = _scored(20_000, seed_value, shift)
        try:
            versions.append(
                registry.dataset_version_upload(actor=developer, dataset=dataset, path=path, original_name=name)
            )
        finally:
            path.unlink(missing_ok=True)
    reference, current = versions
    suite = services.suite_create(
        actor=developer, project=project, name="Credit standard", spec=SUITE, model=version.model,
        reference=reference, current_dataset=dataset,
    )  # fmt: skip
    services.run_create(actor=developer, version=version, reference=reference, current=current, suite=suite)
    return 4
