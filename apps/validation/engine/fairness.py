"""Fairness of binary predictions across the groups of one sensitive attribute.

Per group: count, selection rate, true and false positive rates, accuracy. Per attribute:
demographic parity difference (largest minus smallest selection rate) and ratio (smallest over
largest), and equalized odds difference (the larger of the TPR and FPR spreads): fairlearn's
"between_groups" definitions. A group without positives has no TPR and one without negatives no
FPR: those rates are null, and the group is left out of that spread (fairlearn would count it as 0,
which would report a disparity that the data do not show).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from apps.validation.engine.measure import Measure, plural
from apps.validation.engine.reader import Codes


@dataclass(frozen=True)
class GroupMeasures:
    group: str
    measures: dict[str, Measure]


@dataclass(frozen=True)
class AttributeFairness:
    groups: list[GroupMeasures]
    measures: dict[str, Measure]  # the attribute-level metrics


@dataclass(frozen=True)
class _Counts:
    """Per-group counts, indexed by group code; the target-based ones are None without a target."""

    rows: np.ndarray
    selected: np.ndarray
    positives: np.ndarray | None
    true_positives: np.ndarray | None
    false_positives: np.ndarray | None
    correct: np.ndarray | None


def attribute_fairness(
    groups: Codes,
    order: list[int],
    y_pred: np.ndarray,
    y_true: np.ndarray | None,
    usable: np.ndarray,
    left_out: str | None = None,
) -> AttributeFairness:
    """Return per-group and per-attribute fairness of boolean predictions (and targets, if any).

    `usable` marks rows whose labels are present; rows without a group value are left out too.
    `order` lists the group codes in the order results are reported.
    """
    rows = usable & (groups.codes >= 0)
    without_group = int(np.count_nonzero(usable & (groups.codes < 0)))
    table = count_table(groups.codes, y_pred, y_true, rows, len(groups.texts))
    return table_fairness(table, groups.texts, order, y_true is not None, without_group, left_out)


def table_fairness(
    table: np.ndarray,
    texts: list[str],
    order: list[int],
    has_target: bool,
    without_group: int,
    left_out: str | None = None,
) -> AttributeFairness:
    """Return the fairness measures from the [group, actual, predicted] table of count_table.

    `without_group` counts the usable rows without a value for the attribute (said in the notes).
    """
    notes = [left_out] if left_out else []
    if without_group:
        notes.append(f"{plural(without_group, 'row')} without a value for the attribute were left out")
    note = "; ".join(notes) or None
    counts = _counts(table, has_target)

    results: list[GroupMeasures] = []
    rates: dict[str, list[float]] = {"selection_rate": [], "tpr": [], "fpr": []}
    undefined: dict[str, list[str]] = {"tpr": [], "fpr": []}
    for code in order:
        if counts.rows[code] == 0:
            continue  # a value no usable row has: not a group of these data
        measures = _group_measures(counts, code, note)
        name = texts[code]
        for metric, values in rates.items():
            measure = measures.get(metric)
            if measure is not None and isinstance(measure.value, float):
                values.append(measure.value)
            elif measure is not None:
                undefined.setdefault(metric, []).append(name)
        results.append(GroupMeasures(name, measures))
    return AttributeFairness(results, _attribute_measures(rates, undefined, has_target, note))


def count_table(
    codes: np.ndarray, predicted: np.ndarray, actual: np.ndarray | None, counted: np.ndarray, size: int
) -> np.ndarray:
    """Return the counted rows' size x 2 x 2 table [group, actual, predicted] (actual 0 without a target)."""
    # One pass over the rows, no copies of the columns: each row counted falls in cell (group, actual,
    # predicted) of a size x 2 x 2 table; the rows left out go to one extra cell, dropped afterwards.
    cells = codes.astype(np.intp, copy=True)
    np.multiply(cells, 4, out=cells)
    np.add(cells, predicted, out=cells)
    if actual is not None:
        np.add(cells, actual, out=cells)
        np.add(cells, actual, out=cells)
    cells[~counted] = size * 4
    return np.bincount(cells, minlength=size * 4 + 1)[: size * 4].reshape(size, 2, 2)  # [group, actual, predicted]


def _counts(table: np.ndarray, has_target: bool) -> _Counts:
    rows = table.sum(axis=(1, 2))
    selected = table[:, :, 1].sum(axis=1)
    if not has_target:
        return _Counts(rows, selected, None, None, None, None)
    return _Counts(
        rows=rows,
        selected=selected,
        positives=table[:, 1, :].sum(axis=1),
        true_positives=table[:, 1, 1],
        false_positives=table[:, 0, 1],
        correct=table[:, 0, 0] + table[:, 1, 1],
    )


def _group_measures(counts: _Counts, code: int, note: str | None) -> dict[str, Measure]:
    n = int(counts.rows[code])
    measures = {"count": Measure(n, note), "selection_rate": Measure.number(int(counts.selected[code]) / n, note)}
    if counts.positives is None or counts.true_positives is None or counts.false_positives is None:
        return measures
    positives = int(counts.positives[code])
    negatives = n - positives
    if positives:
        measures["tpr"] = Measure.number(int(counts.true_positives[code]) / positives, note)
    else:
        measures["tpr"] = Measure.undefined("the group has no positive rows in the target, so TPR is undefined")
    if negatives:
        measures["fpr"] = Measure.number(int(counts.false_positives[code]) / negatives, note)
    else:
        measures["fpr"] = Measure.undefined("the group has no negative rows in the target, so FPR is undefined")
    assert counts.correct is not None
    measures["accuracy"] = Measure.number(int(counts.correct[code]) / n, note)
    return measures


def _attribute_measures(
    rates: dict[str, list[float]], undefined: dict[str, list[str]], has_target: bool, note: str | None
) -> dict[str, Measure]:
    selection = rates["selection_rate"]
    names = ["demographic_parity_difference", "demographic_parity_ratio"]
    if has_target:
        names.append("equalized_odds_difference")
    if not selection:
        return dict.fromkeys(
            names, Measure.undefined(_join(note, "no row has both labels and a value for the attribute"))
        )
    measures = {"demographic_parity_difference": Measure.number(max(selection) - min(selection), note)}
    if max(selection) == 0:
        measures["demographic_parity_ratio"] = Measure.undefined(
            _join(note, "no group has a positive prediction, so the ratio of selection rates is undefined")
        )
    else:
        measures["demographic_parity_ratio"] = Measure.number(min(selection) / max(selection), note)
    if has_target:
        measures["equalized_odds_difference"] = _equalized_odds(
            rates["tpr"], rates["fpr"], undefined["tpr"], undefined["fpr"], note
        )
    return measures


def _equalized_odds(
    tprs: list[float], fprs: list[float], no_positives: list[str], no_negatives: list[str], note: str | None
) -> Measure:
    spreads = [max(rates) - min(rates) for rates in (tprs, fprs) if rates]
    notes = [note] if note else []
    if no_positives:
        notes.append(f"left out of the TPR spread (no positive rows): {', '.join(no_positives)}")
    if no_negatives:
        notes.append(f"left out of the FPR spread (no negative rows): {', '.join(no_negatives)}")
    text = "; ".join(notes) or None
    if not spreads:
        return Measure.undefined(_join(text, "no group has a TPR or an FPR to compare"))
    return Measure.number(max(spreads), text)


def _join(note: str | None, text: str) -> str:
    return f"{note}; {text}" if note else text
