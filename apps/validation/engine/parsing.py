"""Parse and validate a suite's JSON into a Spec, saying exactly what is wrong when it is not one.

Parsing checks everything that can be checked without the data: names, types, which metric fits
which task and which columns it needs. Every list is capped (engine/spec.py's limits), so a
hostile suite is refused at once instead of parsed for minutes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from apps.validation.engine.errors import SpecError
from apps.validation.engine.spec import (
    CHECK_KINDS,
    FAIRNESS_NEEDS_TARGET,
    LIST_COLUMNS,
    MAX_CHECKS,
    MAX_COLUMNS,
    MAX_NAME_CHARS,
    MAX_SENSITIVE,
    METRICS,
    PERFORMANCE_METRICS,
    SCORE_METRICS,
    SINGLE_COLUMNS,
    TASKS,
    THRESHOLD_KEYS,
    Check,
    Columns,
    Spec,
    Thresholds,
)

_SPEC_KEYS = ("task", "columns", "checks", "positive_label", "schema")
_COLUMN_KEYS = ("target", "prediction", "score", "sensitive", "numeric", "categorical")


def parse_spec(data: object) -> Spec:
    """Validate decoded suite JSON and return the Spec; raise SpecError saying what is wrong."""
    if not isinstance(data, Mapping):
        raise SpecError(f"The suite must be a JSON object, not {_json_type(data)}.")
    _refuse_unknown(data, _SPEC_KEYS, "the suite")

    task = data.get("task")
    if task is None:
        raise SpecError(f'The suite needs a "task": one of {_listing(TASKS)}.')
    if not isinstance(task, str) or task not in TASKS:
        raise SpecError(f'"task" must be one of {_listing(TASKS)}, not {_show(task)}.')

    columns = _parse_columns(data.get("columns", {}))
    positive_label = _parse_positive_label(data.get("positive_label", 1))
    schema = None
    if data.get("schema") is not None:
        schema = _name_list(data["schema"], '"schema"', MAX_COLUMNS)

    raw_checks = data.get("checks", "standard")
    checks: tuple[Check, ...] | None
    if raw_checks == "standard":
        checks = None
    elif isinstance(raw_checks, list):
        if not raw_checks:
            raise SpecError('"checks" is an empty list: list at least one check, or write "checks": "standard".')
        if len(raw_checks) > MAX_CHECKS:
            raise SpecError(f'"checks" lists {len(raw_checks):,} checks; at most {MAX_CHECKS:,} are allowed.')
        checks = tuple(_parse_check(item, f"checks[{index}]", task, columns) for index, item in enumerate(raw_checks))
    else:
        raise SpecError(f'"checks" must be "standard" or a list of checks, not {_show(raw_checks)}.')
    return Spec(task=task, columns=columns, checks=checks, positive_label=positive_label, schema=schema)


def _parse_columns(raw: object) -> Columns:
    """Validate the "columns" object: names are non-empty strings and each column has one role."""
    if not isinstance(raw, Mapping):
        raise SpecError(f'"columns" must be an object mapping roles to column names, not {_json_type(raw)}.')
    _refuse_unknown(raw, _COLUMN_KEYS, '"columns"')
    singles: dict[str, str | None] = {}
    for key in SINGLE_COLUMNS:
        value = raw.get(key)
        singles[key] = None if value is None else _name(value, f'"columns.{key}"')
    lists: dict[str, tuple[str, ...] | None] = {}
    for key in LIST_COLUMNS:
        value = raw.get(key)
        most = MAX_SENSITIVE if key == "sensitive" else MAX_COLUMNS
        lists[key] = None if value is None else _name_list(value, f'"columns.{key}"', most)

    roles: dict[str, str] = {}
    for key in SINGLE_COLUMNS + LIST_COLUMNS:
        single = singles.get(key)
        names = lists.get(key) or ((single,) if single else ())
        for name in names:
            if name in roles:
                raise SpecError(
                    f"Column {name!r} is mapped as both {roles[name]} and {key}; give each column one role."
                )
            roles[name] = key
    return Columns(
        target=singles["target"],
        prediction=singles["prediction"],
        score=singles["score"],
        sensitive=lists["sensitive"] or (),
        numeric=lists["numeric"],
        categorical=lists["categorical"],
    )


def _parse_positive_label(raw: object) -> bool | int | str:
    if isinstance(raw, bool | str) or (isinstance(raw, int) and not isinstance(raw, bool)):
        if isinstance(raw, str) and not raw:
            raise SpecError('"positive_label" must not be empty.')
        if isinstance(raw, str):
            if len(raw) > MAX_NAME_CHARS:
                raise SpecError(f'"positive_label" is longer than {MAX_NAME_CHARS} characters.')
            _refuse_control_characters(raw, '"positive_label"')
        elif isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 2**64:
            raise SpecError('"positive_label" is a larger number than any label column holds.')
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    raise SpecError(f'"positive_label" must be a number, a string or true/false, not {_show(raw)}.')


def _parse_check(raw: object, where: str, task: str, columns: Columns) -> Check:
    """Validate one entry of "checks" against the task and the column mapping."""
    if not isinstance(raw, Mapping):
        example = '{"check": "drift", "metric": "psi"}'
        raise SpecError(f"{where} must be an object like {example}, not {_show(raw)}.")
    kind = raw.get("check")
    if not isinstance(kind, str) or kind not in CHECK_KINDS:
        raise SpecError(f'{where}: "check" must be one of {_listing(CHECK_KINDS)}, not {_show(kind)}.')
    metric = raw.get("metric")
    if not isinstance(metric, str) or metric not in METRICS[kind]:
        choices = _listing(METRICS[kind])
        raise SpecError(f'{where}: "metric" of a {kind} check must be one of {choices}, not {_show(metric)}.')
    where = f"{where} ({kind} {metric})"

    _refuse_unknown(raw, _allowed_keys(kind, metric), where)

    column = None if raw.get("column") is None else _name(raw["column"], f'{where}: "column"')
    attribute = None if raw.get("attribute") is None else _name(raw["attribute"], f'{where}: "attribute"')
    thresholds = _parse_thresholds(raw, where)

    check = Check(check=kind, metric=metric, column=column, attribute=attribute, thresholds=thresholds)
    _check_fits(check, where, task, columns)
    return check


def _allowed_keys(kind: str, metric: str) -> tuple[str, ...]:
    """Return the keys an entry of this check and metric may have."""
    if kind == "integrity" or (kind == "quality" and metric == "schema"):
        return ("check", "metric")
    if kind == "quality" and metric == "range":
        return ("check", "metric", "column", "min", "max")
    if kind == "drift" or (kind == "quality" and metric == "missing_rate"):
        return ("check", "metric", "column", *THRESHOLD_KEYS)
    if kind == "fairness":
        return ("check", "metric", "attribute", *THRESHOLD_KEYS)
    return ("check", "metric", *THRESHOLD_KEYS)


def _check_fits(check: Check, where: str, task: str, columns: Columns) -> None:
    """Refuse a check the task or the column mapping cannot support."""
    if check.check == "performance":
        _check_performance(check.metric, where, task, columns)
    elif check.check == "drift":
        _check_drift(check.metric, where, check.column, columns)
    elif check.check == "fairness":
        _check_fairness(check.metric, where, task, columns, check.attribute)
    elif check.check == "quality" and check.metric == "range":
        if check.column is None:
            raise SpecError(f'{where}: name the "column" whose values must lie in the range.')
        if check.thresholds.min is None and check.thresholds.max is None:
            raise SpecError(f'{where}: give the range\'s "min", "max" or both.')


def _parse_thresholds(raw: Mapping[str, Any], where: str) -> Thresholds:
    limits: dict[str, float] = {}
    for key in THRESHOLD_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
            raise SpecError(f'{where}: "{key}" must be a finite number, not {_show(value)}.')
        limits[key] = value
    thresholds = Thresholds(**limits)
    pairs = (("min", "max"), ("warn_min", "warn_max"), ("min", "warn_min"), ("warn_max", "max"))
    for low, high in pairs:
        low_value, high_value = limits.get(low), limits.get(high)
        if low_value is not None and high_value is not None and low_value > high_value:
            raise SpecError(f'{where}: "{low}" ({low_value}) is greater than "{high}" ({high_value}).')
    return thresholds


def _check_performance(metric: str, where: str, task: str, columns: Columns) -> None:
    if metric not in PERFORMANCE_METRICS[task]:
        allowed = PERFORMANCE_METRICS[task]
        hint = f"use one of {_listing(allowed)}" if allowed else 'a task of "other" has no performance metrics'
        raise SpecError(f"{where}: {metric} is not a performance metric of a {task} model; {hint}.")
    if columns.target is None:
        raise SpecError(f'{where}: needs "columns.target", the column holding the true outcome.')
    if metric in SCORE_METRICS and columns.score is None:
        raise SpecError(f'{where}: needs "columns.score", the column holding the probability of the positive class.')
    if metric not in SCORE_METRICS and columns.prediction is None:
        raise SpecError(f'{where}: needs "columns.prediction", the column holding the predicted label or value.')


def _check_drift(metric: str, where: str, column: str | None, columns: Columns) -> None:
    if column is None:
        return
    if columns.has_role(column):
        raise SpecError(
            f"{where}: {column!r} is mapped as a target, prediction, score or sensitive column, not a feature."
        )
    numeric, categorical = columns.is_numeric(column), columns.is_categorical(column)
    if metric in ("ks_statistic", "ks_pvalue") and categorical:
        raise SpecError(f"{where}: {column!r} is categorical; the Kolmogorov-Smirnov test needs a numeric column.")
    if metric == "chi2_pvalue" and numeric:
        raise SpecError(f"{where}: {column!r} is numeric; the chi-square test needs a categorical column.")
    if columns.numeric is not None and columns.categorical is not None and not (numeric or categorical):
        raise SpecError(f'{where}: {column!r} is not listed in "columns.numeric" or "columns.categorical".')


def _check_fairness(metric: str, where: str, task: str, columns: Columns, attribute: str | None) -> None:
    if task != "binary_classification":
        raise SpecError(f"{where}: fairness checks need a binary_classification task, not {task}.")
    if not columns.sensitive:
        raise SpecError(f'{where}: needs "columns.sensitive", the list of sensitive attribute columns.')
    if columns.prediction is None:
        raise SpecError(f'{where}: needs "columns.prediction", the column holding the predicted label.')
    if metric in FAIRNESS_NEEDS_TARGET and columns.target is None:
        raise SpecError(f'{where}: needs "columns.target", the column holding the true outcome.')
    if attribute is not None and attribute not in columns.sensitive:
        raise SpecError(f'{where}: attribute {attribute!r} is not listed in "columns.sensitive".')


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any float, e.g. 10**400
        return False


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where} must be a column name (a non-empty string), not {_show(value)}.")
    if len(value) > MAX_NAME_CHARS:
        raise SpecError(f"{where} is longer than {MAX_NAME_CHARS} characters.")
    _refuse_control_characters(value, where)
    return value


def _refuse_control_characters(value: str, where: str) -> None:
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in value):
        raise SpecError(f"{where} holds a control character (such as NUL or a line break).")


def _name_list(value: object, where: str, most: int) -> tuple[str, ...]:
    """Validate a list of column names: at most ``most`` of them, each named once (checked in linear time)."""
    if not isinstance(value, list):
        raise SpecError(f"{where} must be a list of column names, not {_show(value)}.")
    if len(value) > most:
        raise SpecError(f"{where} lists {len(value):,} columns; at most {most:,} are allowed.")
    names = tuple(_name(item, f"{where}[{index}]") for index, item in enumerate(value))
    seen: set[str] = set()
    repeated: set[str] = set()
    for name in names:
        (repeated if name in seen else seen).add(name)
    if repeated:
        raise SpecError(f"{where} names {_listing(sorted(repeated))} more than once.")
    return names


def _refuse_unknown(data: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in allowed:
            raise SpecError(f"Unknown key {_show(key)} in {where}; the allowed keys are {_listing(allowed)}.")


def _listing(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, Mapping) else type(value).__name__


def _show(value: object) -> str:
    """Return a short, printable rendering of a JSON value for an error message."""
    if isinstance(value, int) and value.bit_length() > 64:
        return "a number too large to use"  # repr() of 10**5000 would itself fail
    text = "null" if value is None else repr(value)
    text = "".join(char if char.isprintable() else "?" for char in text)
    return text if len(text) <= 60 else text[:59] + "…"
