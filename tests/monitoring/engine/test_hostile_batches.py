"""Batches, outcome files and stored profiles the engine must refuse, each with a sentence for a person."""

from __future__ import annotations

import pickle
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from apps.monitoring.engine import (
    BatchError,
    Profile,
    Reference,
    build_reference,
    check_outcomes,
    profile_batch,
    window_results,
)
from apps.validation.engine import InputError, parse_spec
from tests.monitoring.engine import data


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Reference, data.Window, Path]:
    tmp = tmp_path_factory.mktemp("hostile")
    reference_path = data.write(data.reference_table(31, rows=800), tmp / "reference.parquet")
    return build_reference(reference_path, parse_spec(data.BINARY_SPEC)), data.window(31, rows=600), tmp


def refused(source: object, reference: Reference, **kwargs: object) -> str:
    with pytest.raises(BatchError) as caught:
        profile_batch(source, reference, now=data.NOW, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.endswith(".")
    assert "\n" not in message
    return message


def test_a_batch_error_is_an_input_error_for_the_callers_that_refuse_bad_data() -> None:
    assert issubclass(BatchError, InputError)


def test_a_batch_without_a_feature_or_with_an_unknown_column_is_refused(
    case: tuple[Reference, data.Window, Path],
) -> None:
    reference, window, _ = case
    assert "lacks 'f1'" in refused(window.predictions.drop_columns(["f1"]), reference)
    extra = window.predictions.append_column("surprise", pa.array(np.zeros(window.predictions.num_rows)))
    assert "does not know: 'surprise'" in refused(extra, reference)
    assert "lacks 'prediction_id'" in refused(window.predictions.drop_columns(["prediction_id"]), reference)


def test_text_in_a_numeric_feature_is_refused_with_an_example(case: tuple[Reference, data.Window, Path]) -> None:
    reference, window, _ = case
    texts = pa.array(["1.5"] * (window.predictions.num_rows - 1) + ["lots"])
    table = window.predictions.set_column(window.predictions.schema.get_field_index("f0"), "f0", texts)
    message = refused(table, reference)
    assert "Column 'f0'" in message
    assert "should hold numbers but holds string values" in message


def test_repeated_prediction_ids_are_refused(case: tuple[Reference, data.Window, Path]) -> None:
    reference, window, _ = case
    ids = window.predictions.column("prediction_id").to_numpy().copy()
    ids[5] = ids[9]
    table = window.predictions.set_column(0, "prediction_id", pa.array(ids))
    message = refused(table, reference)
    assert "repeats prediction ids" in message
    assert f"for example {ids[9]}" in message
    nulls = window.predictions.set_column(
        0, "prediction_id", pa.array([None] * window.predictions.num_rows, pa.int64())
    )
    assert "no value in the id column" in refused(nulls, reference)


def test_timestamps_in_the_future_or_the_far_past_or_unreadable_are_refused(
    case: tuple[Reference, data.Window, Path],
) -> None:
    reference, window, _ = case
    later = data.NOW - timedelta(days=3)
    with pytest.raises(BatchError, match="in the future"):
        profile_batch(window.predictions, reference, now=later)
    with pytest.raises(BatchError, match="more than 1 days ago"):
        profile_batch(window.predictions, reference, now=data.NOW, max_age=timedelta(days=1))
    rows = window.predictions.num_rows
    garbled = window.predictions.set_column(1, "timestamp", pa.array(["yesterday"] * rows))
    assert "could not be read" in refused(garbled, reference)
    numbers = window.predictions.set_column(1, "timestamp", pa.array(np.arange(rows)))
    assert "holds integer values" in refused(numbers, reference)


def test_a_million_columns_are_refused_before_anything_is_parsed(case: tuple[Reference, data.Window, Path]) -> None:
    reference, _, tmp = case
    path = tmp / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n" + ",".join("1" * 1_000_000) + "\n")
    message = refused(path, reference)
    assert "at most 2,000 columns" in message


def test_a_csv_that_is_not_utf8_or_is_a_pickle_is_refused(case: tuple[Reference, data.Window, Path]) -> None:
    reference, window, tmp = case
    latin = tmp / "latin.csv"
    data.write_csv(window.predictions, latin)
    latin.write_bytes(latin.read_bytes().replace(b"A", "\u00c9".encode("latin-1")))
    assert "UTF-8" in refused(latin, reference)
    disguised = tmp / "disguised.csv"
    disguised.write_bytes(pickle.dumps({"rows": 1}))
    assert "pickle" in refused(disguised, reference)
    assert "does not exist" in refused(tmp / "missing.parquet", reference)


def test_outcomes_must_be_id_and_target_with_unique_ids(case: tuple[Reference, data.Window, Path]) -> None:
    reference, window, tmp = case
    good = data.write(window.outcomes[1], tmp / "outcomes.parquet")
    assert check_outcomes(good, reference) == window.outcomes[1].num_rows
    twice = pa.concat_tables([window.outcomes[1], window.outcomes[1].slice(0, 3)])
    with pytest.raises(BatchError, match="repeats prediction ids"):
        check_outcomes(twice, reference)
    with pytest.raises(BatchError, match="lacks 'y_true'"):
        check_outcomes(window.outcomes[1].drop_columns(["y_true"]), reference)
    with pytest.raises(BatchError, match="repeats prediction ids"):
        profile_batch(window.predictions, reference, now=data.NOW, outcomes=[twice])


def test_damaged_or_foreign_profiles_and_references_are_refused(case: tuple[Reference, data.Window, Path]) -> None:
    reference, window, _ = case
    profile = profile_batch(window.predictions, reference, now=data.NOW, bucket_seconds=86_400)[0]
    with pytest.raises(BatchError, match="not UTF-8 JSON"):
        Profile.from_bytes(pickle.dumps(profile.to_dict()))
    with pytest.raises(BatchError, match="damaged"):
        Profile.from_bytes(profile.to_bytes().replace(b'"rows":', b'"rows":-', 1))
    with pytest.raises(BatchError, match="damaged"):
        Reference.from_dict({**reference.to_dict(), "numeric": {"f0": {"edges": "no"}}})
    other = Profile.from_dict({**profile.to_dict(), "reference": "0" * 16})
    with pytest.raises(BatchError, match="different references"):
        window_results([profile, other], reference)
    with pytest.raises(BatchError, match="at least one profile"):
        window_results([], reference)


def test_a_reference_whose_columns_clash_with_the_monitors_is_refused(
    case: tuple[Reference, data.Window, Path],
) -> None:
    _, _, tmp = case
    path = data.write(data.reference_table(32, rows=50), tmp / "clash.parquet")
    with pytest.raises(BatchError, match="choose another name"):
        build_reference(path, parse_spec(data.BINARY_SPEC), timestamp_column="f0")
    spec = parse_spec({**data.BINARY_SPEC, "columns": {**data.BINARY_SPEC["columns"], "sensitive": ["nowhere"]}})
    with pytest.raises(BatchError, match="nowhere"):
        build_reference(path, spec)
