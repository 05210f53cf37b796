"""Running a suite on files: missing columns, schemas, ranges, empty data, documentation, integrity, hostile files."""

from __future__ import annotations

import hashlib
import json
import pickle  # only to produce a pickle's bytes; nothing here ever loads one
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pytest
from scipy import stats as scipy_stats

from apps.validation.engine import Artifact, Documentation, InputError, parse_spec, run_suite
from tests.validation.engine_files import BINARY, binary_table, find, run, write


def test_a_named_column_missing_from_the_current_dataset_is_an_input_error(tmp_path, binary_files):
    reference, current = binary_files
    spec = {"task": "binary_classification", "columns": {**BINARY, "score": "probability"}}
    with pytest.raises(InputError) as caught:
        run(tmp_path, reference, current, spec)
    message = str(caught.value)
    assert message.startswith("Column 'probability' (columns.score) is not in the current dataset")
    assert "'y_score'" in message


def test_a_listed_feature_missing_from_the_reference_is_an_input_error(tmp_path, binary_files):
    reference, current = binary_files
    spec = {"task": "binary_classification", "columns": {**BINARY, "numeric": ["f0", "income"]}}
    with pytest.raises(InputError, match=r"Column 'income' \(columns.numeric\) is not in the reference dataset"):
        run(tmp_path, reference, current, spec)


def test_an_inferred_feature_missing_from_the_current_dataset_is_a_drift_error_and_a_schema_failure(
    tmp_path, binary_files
):
    reference, current = binary_files
    outcome = run(
        tmp_path, reference, current.drop_columns(["f1"]), {"task": "binary_classification", "columns": BINARY}
    )
    psi = find(outcome, "psi", column="f1")
    assert psi["status"] == "error"
    assert "'f1' is in the reference dataset but not in the current one" in psi["message"]
    schema = find(outcome, "schema")
    assert schema["status"] == "fail"
    assert "Missing from the current dataset: f1" in schema["message"]


def test_the_schema_can_be_given_in_the_suite(tmp_path, binary_files):
    reference, current = binary_files
    spec = {
        "task": "other",
        "columns": {},
        "schema": [*current.column_names, "extra"],
        "checks": [{"check": "quality", "metric": "schema"}],
    }
    schema = find(run(tmp_path, reference, current, spec), "schema")
    assert schema["status"] == "fail"
    assert schema["value"] == 1
    assert "Missing from the current dataset: extra" in schema["message"]


def test_range_and_missing_rate_checks_on_named_columns(tmp_path):
    current = pa.table({"age": [25, 130, -1, None, 40], "city": ["a", None, "b", "c", None]})
    spec = {
        "task": "other",
        "columns": {},
        "checks": [
            {"check": "quality", "metric": "range", "column": "age", "min": 0, "max": 120},
            {"check": "quality", "metric": "missing_rate", "column": "city", "max": 0.3},
            {"check": "quality", "metric": "missing_rate", "column": "age"},
        ],
    }
    outcome = run(tmp_path, current, current, spec)
    age_range = find(outcome, "range", column="age")
    assert age_range["value"] == 2
    assert age_range["status"] == "fail"
    assert age_range["threshold"] == {"min": 0, "max": 120}
    city = find(outcome, "missing_rate", column="city")
    assert city["value"] == 0.4
    assert city["status"] == "fail"
    assert find(outcome, "missing_rate", column="age")["threshold"] == {"max": 0.2, "warn_max": 0.05}


def test_a_range_on_a_column_the_current_dataset_lacks_is_an_input_error(tmp_path):
    current = pa.table({"age": [25]})
    spec = {
        "task": "other",
        "columns": {},
        "checks": [{"check": "quality", "metric": "range", "column": "agee", "max": 1}],
    }
    with pytest.raises(InputError, match="Column 'agee'"):
        run(tmp_path, current, current, spec)


def test_non_numeric_values_in_a_numeric_csv_column_are_left_out_and_counted(tmp_path):
    (tmp_path / "reference.csv").write_text("f0,c\n1.0,a\n2.0,b\n3.0,a\n4.0,b\n", encoding="utf-8")
    (tmp_path / "current.csv").write_text("f0,c\n1.5,a\nabc,b\n3.5,a\n,b\n", encoding="utf-8")
    spec = parse_spec({"task": "other", "columns": {"numeric": ["f0"], "categorical": ["c"]}})
    outcome = run_suite(tmp_path / "reference.csv", tmp_path / "current.csv", spec)
    psi = find(outcome, "psi", column="f0")
    assert "not numbers: 0 in the reference, 1 in the current dataset" in psi["message"]
    assert "missing: 0 in the reference, 1 in the current dataset" in psi["message"]
    expected = scipy_stats.ks_2samp([1.0, 2.0, 3.0, 4.0], [1.5, 3.5], method="asymp")
    assert find(outcome, "ks_statistic", column="f0")["value"] == pytest.approx(float(expected.statistic))
    assert find(outcome, "missing_rate", column="f0")["value"] == 0.25  # "abc" is a value, just not a number


def test_an_all_missing_column_gives_null_drift_and_a_failing_missing_rate(tmp_path):
    reference = pa.table({"f0": [1.0, 2.0, 3.0]})
    current = pa.table({"f0": pa.array([None, None, None], pa.float64())})
    outcome = run(tmp_path, reference, current, {"task": "other", "columns": {}})
    psi = find(outcome, "psi", column="f0")
    assert psi["value"] is None
    assert psi["status"] == "error"
    assert "the current dataset has no numeric values" in psi["message"]
    assert find(outcome, "missing_rate", column="f0")["status"] == "fail"


def test_empty_datasets_give_results_with_reasons_not_a_crash(tmp_path):
    (tmp_path / "reference.csv").write_text("f0,c,y_true,y_pred\n", encoding="utf-8")
    (tmp_path / "current.csv").write_text("f0,c,y_true,y_pred\n", encoding="utf-8")
    spec = parse_spec({"task": "binary_classification", "columns": {"target": "y_true", "prediction": "y_pred"}})
    outcome = run_suite(tmp_path / "reference.csv", tmp_path / "current.csv", spec)
    assert find(outcome, "row_count")["status"] == "fail"
    assert find(outcome, "accuracy")["value"] is None
    assert json.dumps(outcome.to_dict(), allow_nan=False)
    assert outcome.status == "fail"


def test_empty_parquet_datasets_give_results_with_reasons_not_a_crash(tmp_path):
    empty = pa.table({"f0": pa.array([], pa.float64()), "y": pa.array([], pa.int64()), "p": pa.array([], pa.int64())})
    outcome = run(
        tmp_path, empty, empty, {"task": "binary_classification", "columns": {"target": "y", "prediction": "p"}}
    )
    assert find(outcome, "psi", column="f0")["value"] is None
    assert find(outcome, "duplicate_rows")["value"] == 0


def test_documentation_completeness_against_the_tier(tmp_path, binary_files):
    reference, current = binary_files
    spec = {"task": "other", "columns": {}, "checks": [{"check": "documentation", "metric": "completeness"}]}
    missing = run(
        tmp_path,
        reference,
        current,
        spec,
        documentation=Documentation(completeness=0.75, missing_sections=["limitations", "monitoring plan"]),
    )
    item = find(missing, "completeness")
    assert item["status"] == "fail"
    assert item["threshold"] == {"min": 1.0}
    assert "Missing sections: limitations, monitoring plan" in item["message"]
    complete = run(tmp_path, reference, current, spec, documentation=Documentation(completeness=1.0))
    assert find(complete, "completeness")["status"] == "pass"
    absent = run(tmp_path, reference, current, spec)
    assert find(absent, "completeness")["status"] == "skipped"


def test_integrity_hashes_the_artifact_and_never_unpickles_it(tmp_path, binary_files):
    reference, current = binary_files

    class Trap:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "unpickled",))

    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(pickle.dumps(Trap()))
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    spec = {"task": "other", "columns": {}, "checks": [{"check": "integrity", "metric": "sha256"}]}

    matching = run(tmp_path, reference, current, spec, artifact=Artifact(path=artifact, expected_sha256=digest.upper()))
    item = find(matching, "sha256")
    assert item["status"] == "pass"
    assert item["value"] == digest
    assert not (tmp_path / "unpickled").exists()

    changed = run(tmp_path, reference, current, spec, artifact=Artifact(path=artifact, expected_sha256="0" * 64))
    assert find(changed, "sha256")["status"] == "fail"
    assert changed.status == "fail"

    unreachable = run(tmp_path, reference, current, spec, artifact=Artifact(path=None, expected_sha256=digest))
    assert find(unreachable, "sha256")["status"] == "skipped"
    assert "not reachable" in find(unreachable, "sha256")["message"]

    gone = run(
        tmp_path, reference, current, spec, artifact=Artifact(path=tmp_path / "gone.onnx", expected_sha256=digest)
    )
    assert find(gone, "sha256")["status"] == "error"


def test_explicit_ks_on_an_inferred_categorical_column_is_an_input_error(tmp_path, binary_files):
    reference, current = binary_files
    spec = {"task": "other", "columns": {}, "checks": [{"check": "drift", "metric": "ks_statistic", "column": "c0"}]}
    with pytest.raises(InputError, match="'c0' is categorical"):
        run(tmp_path, reference, current, spec)


def _hostile(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("current.csv", pickle.dumps({"model": [1, 2, 3]}), "This file is a Python pickle, not a CSV file."),
        ("current.csv", b"a,b\n1,\xff\xfe\n", "This file is not UTF-8 text"),
        ("current.csv", b"a,b\n1,2\x00\n", "contains NUL bytes"),
        ("current.csv", b"PK\x03\x04rest-of-a-zip", "This file is a ZIP archive, not a CSV file."),
        ("current.csv", b"", "The file is empty."),
        ("current.parquet", b"a,b\n1,2\n", "not a Parquet file"),
        ("current.txt", b"a,b\n1,2\n", "Upload a CSV (.csv) or Parquet (.parquet) file."),
    ],
)
def test_hostile_or_wrong_current_files_are_refused_with_a_reason(tmp_path, name, content, reason):
    reference = write(tmp_path, "reference.parquet", binary_table(50, seed=3))
    current = _hostile(tmp_path, name, content)
    with pytest.raises(InputError) as caught:
        run_suite(reference, current, parse_spec({"task": "other", "columns": {}}))
    assert reason in str(caught.value)
    assert str(caught.value).startswith(f"The current dataset ({name})")


def test_a_truncated_parquet_file_is_refused(tmp_path):
    good = write(tmp_path, "reference.parquet", binary_table(500, seed=3))
    truncated = _hostile(tmp_path, "current.parquet", good.read_bytes()[:-100])
    with pytest.raises(InputError, match="The Parquet file is damaged or incomplete"):
        run_suite(good, truncated, parse_spec({"task": "other", "columns": {}}))


def test_a_parquet_file_with_a_damaged_page_header_is_refused_when_read(tmp_path):
    good = write(tmp_path, "reference.parquet", binary_table(500, seed=3))
    data = bytearray(good.read_bytes())
    data[4:40] = b"\xff" * 36  # the first column's first page header; the footer stays intact
    damaged = _hostile(tmp_path, "current.parquet", bytes(data))
    with pytest.raises(InputError, match="damaged"):
        run_suite(good, damaged, parse_spec({"task": "other", "columns": {}}))


def test_a_missing_file_is_refused(tmp_path):
    reference = write(tmp_path, "reference.parquet", binary_table(50, seed=3))
    with pytest.raises(InputError, match=r"The reference dataset \(nowhere.csv\) does not exist"):
        run_suite(tmp_path / "nowhere.csv", reference, parse_spec({"task": "other", "columns": {}}))
