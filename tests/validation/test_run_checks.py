"""`manage.py run_checks`: JSON results, exit 0/1/2, --output, and one readable line for bad input."""

from __future__ import annotations

import io
import json
import os
import pickle  # only to produce a pickle's bytes; nothing here ever loads one
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(9)
    rows = 400
    score = rng.random(rows)
    table = pa.table(
        {
            "f0": rng.normal(size=rows),
            "c0": rng.choice(["a", "b"], rows),
            "y_true": (rng.random(rows) < score).astype(np.int64),
            "y_score": score,
            "y_pred": (score > 0.5).astype(np.int64),
        }
    )
    reference, current = tmp_path / "reference.parquet", tmp_path / "current.parquet"
    pq.write_table(table, reference)
    pq.write_table(table, current)
    return tmp_path, reference, current


def spec_file(directory: Path, checks: object, name: str = "suite.json") -> Path:
    path = directory / name
    suite = {
        "task": "binary_classification",
        "columns": {"target": "y_true", "prediction": "y_pred", "score": "y_score"},
        "checks": checks,
    }
    path.write_text(json.dumps(suite), encoding="utf-8")
    return path


def run_command(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", "run_checks", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_passing_checks_print_the_results_as_json_and_exit_zero(files):
    directory, reference, current = files
    suite = spec_file(directory, [{"check": "performance", "metric": "roc_auc", "min": 0.5}])
    out = io.StringIO()
    call_command("run_checks", reference=str(reference), current=str(current), spec=str(suite), stdout=out)
    document = json.loads(out.getvalue())
    assert document["status"] == "pass"
    assert [item["metric"] for item in document["results"]] == ["roc_auc"]


def test_a_failing_check_prints_the_results_and_exits_one(files):
    directory, reference, current = files
    suite = spec_file(directory, [{"check": "performance", "metric": "roc_auc", "min": 0.999}])
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("run_checks", reference=str(reference), current=str(current), spec=str(suite), stdout=out)
    assert caught.value.returncode == 1
    assert "1 of 1 checks failed or could not be evaluated (overall status: fail)" in str(caught.value)
    assert json.loads(out.getvalue())["status"] == "fail"


def test_output_writes_the_file_and_prints_a_one_line_summary(files):
    directory, reference, current = files
    suite = spec_file(directory, "standard")
    target = directory / "results.json"
    out = io.StringIO()
    call_command(
        "run_checks", reference=str(reference), current=str(current), spec=str(suite), output=str(target), stdout=out
    )
    document = json.loads(target.read_text(encoding="utf-8"))
    summary = out.getvalue().strip()
    assert "\n" not in summary
    assert summary.startswith(f"{document['status']}: {len(document['results'])} results (")
    assert summary.endswith(f"written to {target}")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2)"),
        ('{"task": "clustering"}', '"task" must be one of'),
        ('{"task": "other", "checks": [{"check": "drift", "metric": "kl"}]}', '"metric" of a drift check'),
    ],
)
def test_a_bad_suite_exits_two_with_the_reason(files, content, reason):
    directory, reference, current = files
    suite = directory / "bad.json"
    suite.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("run_checks", reference=str(reference), current=str(current), spec=str(suite))
    assert caught.value.returncode == 2
    assert reason in str(caught.value)


def test_a_suite_file_that_is_not_utf8_or_missing_exits_two(files):
    directory, reference, current = files
    latin = directory / "latin.json"
    latin.write_bytes(b'{"task": "caf\xe9"}')
    for suite, reason in ((latin, "not UTF-8"), (directory / "nowhere.json", "No such file")):
        with pytest.raises(CommandError) as caught:
            call_command("run_checks", reference=str(reference), current=str(current), spec=str(suite))
        assert caught.value.returncode == 2
        assert reason in str(caught.value)


def test_unusable_data_exits_two_with_the_reason(files):
    directory, reference, _ = files
    disguised = directory / "current.csv"
    disguised.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))
    suite = spec_file(directory, "standard")
    with pytest.raises(CommandError) as caught:
        call_command("run_checks", reference=str(reference), current=str(disguised), spec=str(suite))
    assert caught.value.returncode == 2
    assert str(caught.value) == "The current dataset (current.csv): This file is a Python pickle, not a CSV file."


def test_the_real_process_exits_zero_one_and_two_with_one_line_on_stderr(files):
    directory, reference, current = files
    passing = run_command(
        "--reference", str(reference), "--current", str(current),
        "--spec", str(spec_file(directory, [{"check": "quality", "metric": "row_count", "min": 1}], "ok.json")),
    )  # fmt: skip
    assert passing.returncode == 0, passing.stderr
    assert json.loads(passing.stdout)["status"] == "pass"

    failing = run_command(
        "--reference", str(reference), "--current", str(current),
        "--spec", str(spec_file(directory, [{"check": "quality", "metric": "row_count", "min": 10_000}], "no.json")),
    )  # fmt: skip
    assert failing.returncode == 1
    assert json.loads(failing.stdout)["status"] == "fail"
    assert failing.stderr.strip().count("\n") == 0

    truncated = directory / "truncated.parquet"
    truncated.write_bytes(reference.read_bytes()[:-50])
    broken = run_command(
        "--reference", str(reference), "--current", str(truncated), "--spec", str(spec_file(directory, "standard"))
    )
    assert broken.returncode == 2
    assert broken.stdout == ""
    assert "Traceback" not in broken.stderr
    assert broken.stderr.strip() == (
        "CommandError: The current dataset (truncated.parquet): The Parquet file is damaged or incomplete."
    )


def test_missing_arguments_exit_two_with_usage(files):
    _, reference, _ = files
    result = run_command("--reference", str(reference))
    assert result.returncode == 2
    assert "the following arguments are required: --current, --spec" in result.stderr


def test_manage_py_runs_the_checks_without_starting_django(files):
    directory, reference, current = files
    suite = spec_file(directory, "standard")
    script = (
        "import sys, runpy\n"
        "sys.argv = ['manage.py', 'run_checks', *sys.argv[1:]]\n"
        "try:\n    runpy.run_path('manage.py', run_name='__main__')\nexcept SystemExit as exc:\n"
        "    print('exit', exc.code, file=sys.stderr)\n"
        "print('django imported:', 'django' in sys.modules, file=sys.stderr)"
    )
    args = ["--reference", str(reference), "--current", str(current), "--spec", str(suite)]
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert "django imported: False" in done.stderr, done.stderr
    assert json.loads(done.stdout)["results"]


@pytest.mark.parametrize("checks", ["standard", [{"check": "performance", "metric": "roc_auc", "min": 0.999}]])
def test_with_and_without_django_the_command_prints_the_same_and_exits_the_same(files, checks):
    directory, reference, current = files
    suite = spec_file(directory, checks)
    args = ("--reference", str(reference), "--current", str(current), "--spec", str(suite))
    standalone = run_command(*args)
    through_django = run_command(*args, "--settings", "tests.settings", "--no-color")
    assert standalone.returncode == through_django.returncode
    assert standalone.stdout == through_django.stdout
    assert standalone.stderr == through_django.stderr
    out = io.StringIO()
    if standalone.returncode == 0:
        call_command("run_checks", reference=str(reference), current=str(current), spec=str(suite), stdout=out)
    else:
        with pytest.raises(CommandError) as caught:
            call_command("run_checks", reference=str(reference), current=str(current), spec=str(suite), stdout=out)
        assert f"CommandError: {caught.value}\n" == standalone.stderr
        assert caught.value.returncode == standalone.returncode
    assert out.getvalue() == standalone.stdout


def test_help_and_bad_arguments_without_django(files):
    directory, reference, current = files
    helped = run_command("--help")
    assert helped.returncode == 0
    assert "--reference" in helped.stdout
    assert "Exit status" in helped.stdout
    suite = spec_file(directory, "standard")
    args = ("--reference", str(reference), "--current", str(current), "--spec", str(suite))
    unknown = run_command(*args, "--bogus", "1")
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert "unrecognized arguments: --bogus 1" in unknown.stderr


@pytest.mark.parametrize(
    ("argv", "standalone"),
    [
        (["--reference", "a", "--current", "b", "--spec", "c"], True),
        (["--spec", "settings.json", "--output", "-verbose.json"], True),
        (["--settings", "tests.settings"], False),
        (["--settings=tests.settings"], False),
        (["--pythonpath", "."], False),
        (["--traceback"], False),
        (["-v", "2"], False),
        (["-v2"], False),
        (["--verbosity=0"], False),
        (["--no-color"], False),
        (["--force-color"], False),
        (["--version"], False),
        (["--sett=tests.settings"], False),  # argparse takes abbreviations: so does Django's parser
        (["--verb", "0"], False),
        (["--output", "r01"], True),  # values are not options
        (["--output", "2024", "--spec", "v2.json"], True),
        (["--spec", "s.json", "--", "--settings"], True),
    ],
)
def test_django_options_send_the_command_through_django(argv, standalone):
    from apps.validation.engine import cli

    assert cli.standalone(argv) is standalone


@pytest.mark.parametrize("through_django", [False, True])
def test_a_stdout_that_cannot_be_written_exits_two_with_one_line(files, through_django):
    directory, reference, current = files
    args = ["--reference", str(reference), "--current", str(current), "--spec", str(spec_file(directory, "standard"))]
    if through_django:
        args += ["--settings", "tests.settings"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    with open("/dev/full", "w") as full:  # every write fails: no space left on device
        done = subprocess.run(
            [sys.executable, "manage.py", "run_checks", *args],
            cwd=ROOT, env=env, stdout=full, stderr=subprocess.PIPE, text=True, check=False, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr == (
        "CommandError: The results could not be written to standard output: No space left on device.\n"
    )
