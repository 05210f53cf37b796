"""The validation check engine: pure computation on two dataset files, no database.

    spec = parse_spec(json.loads(text))
    outcome = run_suite(reference_path, current_path, spec, progress=report)
    outcome.to_dict()  # {"status": ..., "results": [...]}

docs/validation.md describes the suite format, the metrics, the standard suite's thresholds and
the statuses.
"""

from __future__ import annotations

from apps.validation.engine.errors import InputError, SpecError
from apps.validation.engine.families.documentation import Documentation
from apps.validation.engine.families.integrity import Artifact
from apps.validation.engine.parsing import parse_spec
from apps.validation.engine.runner import SuiteResult, overall_status, run_suite
from apps.validation.engine.spec import Check, Columns, Spec, Thresholds

__all__ = [
    "Artifact",
    "Check",
    "Columns",
    "Documentation",
    "InputError",
    "Spec",
    "SpecError",
    "SuiteResult",
    "Thresholds",
    "overall_status",
    "parse_spec",
    "run_suite",
]
