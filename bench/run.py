"""Benchmark Signet's `run_checks` against Evidently and fairlearn on the same Parquet files.

    bash bench/setup.sh                                   # once: bench/.venv-evidently
    .venv/bin/python bench/run.py                         # 1,000,000 + 1,000,000 rows, every contender
    .venv/bin/python bench/run.py --rows 10000000 --skip-evidently   # Signet only, 10M + 10M

Each contender runs in its own process, started by this script, which measures from outside:
- wall seconds: from starting the process to its exit (interpreter start, imports, file reading, compute,
  writing the results: everything a user waits for);
- peak RSS: the kernel's ru_maxrss of that process (os.wait4 on its pid; Linux reports the largest
  resident set of the process and of any child it waited for), and, as a check, the largest sum of RSS over
  the process tree sampled by psutil every 20 ms.
- CPU seconds (user + system, from the same wait4), and the share of the machine other processes used.
The Evidently and fairlearn workers also time their own phases (imports, read, compute), and each Signet
contender is followed by bench/signet_probe.py (the same engine calls, timed from inside), so compute-only
times are reported beside the end-to-end ones. Every contender reads the files inside the measured process.

Contenders: signet-standard (standard.json: the whole standard suite), signet-fairness (fairness.json),
evidently (DataDriftPreset + ClassificationPreset), fairlearn (MetricFrame and the between-groups metrics),
fairlearn-frame (the between-groups metrics derived from the one MetricFrame).
Results go to the terminal as a table and to bench/results/<UTC timestamp>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measuring import PROBE, QUIET_CPU_PERCENT, Contender, Measurement, measure, wait_quiet
from report import add_work_times, compute_ratios, goals, machine, print_table, summarise

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
MAIN_PYTHON = REPO / ".venv" / "bin" / "python"
EVIDENTLY_PYTHON = BENCH / ".venv-evidently" / "bin" / "python"
ALL = ["signet-standard", "signet-fairness", "evidently", "fairlearn", "fairlearn-frame"]


def _read_worker(scratch: Path) -> tuple[dict[str, float], dict[str, Any]]:
    report = json.loads((scratch / "phases.json").read_text())
    phases = report.pop("phases")
    return phases, report


def _read_signet(scratch: Path) -> tuple[dict[str, float], dict[str, Any]]:
    output = json.loads((scratch / "output.json").read_text())
    statuses: dict[str, int] = {}
    for result in output["results"]:
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    return {}, {"status": output["status"], "results": len(output["results"]), "by_status": statuses}


def contenders(data: Path, names: list[str], var_dir: Path) -> list[Contender]:
    """The contenders selected by name, in the order given; Signet's SIGNET_VAR_DIR is var_dir."""
    # Production settings (DEBUG off), which need a SECRET_KEY and ALLOWED_HOSTS: a throwaway key per run.
    signet_env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SIGNET_VAR_DIR": str(var_dir),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost",
    }

    def signet(spec: str) -> Callable[[Path], list[str]]:
        def command(scratch: Path) -> list[str]:
            return [
                str(MAIN_PYTHON),
                str(REPO / "manage.py"),
                "run_checks",
                "--reference",
                str(data / "reference.parquet"),
                "--current",
                str(data / "current.parquet"),
                "--spec",
                str(data / spec),
                "--output",
                str(scratch / "output.json"),
            ]

        return command

    def probe(spec: str) -> Callable[[Path], list[str]]:
        def command(scratch: Path) -> list[str]:
            return [
                str(MAIN_PYTHON),
                str(BENCH / "signet_probe.py"),
                "--data",
                str(data),
                "--spec",
                spec,
                "--phases",
                str(scratch / "phases.json"),
            ]

        return command

    available = {
        **{
            f"signet-{suite}{PROBE}": Contender(
                f"signet-{suite}{PROBE}",
                probe(f"{suite}.json"),
                env=signet_env,
                read_detail=_read_worker,
            )
            for suite in ("standard", "fairness")
        },
        # run_checks exits 1 when a check fails: a valid result, not an error.
        "signet-standard": Contender(
            "signet-standard", signet("standard.json"), (0, 1), signet_env, read_detail=_read_signet
        ),
        "signet-fairness": Contender(
            "signet-fairness", signet("fairness.json"), (0, 1), signet_env, read_detail=_read_signet
        ),
        "evidently": Contender(
            "evidently",
            lambda scratch: [
                str(EVIDENTLY_PYTHON),
                str(BENCH / "evidently_worker.py"),
                "--data",
                str(data),
                "--phases",
                str(scratch / "phases.json"),
                "--output",
                str(scratch / "output.json"),
            ],
            env={"DO_NOT_TRACK": "1"},
            read_detail=_read_worker,
        ),
        "fairlearn": fairlearn(data, "fairlearn"),
        "fairlearn-frame": fairlearn(data, "fairlearn-frame", "--one-frame"),
    }
    return [available[name] for name in names]


def fairlearn(data: Path, name: str, *options: str) -> Contender:
    """bench/fairlearn_worker.py in the project's venv, with the worker's options."""
    return Contender(
        name,
        lambda scratch: [
            str(MAIN_PYTHON),
            str(BENCH / "fairlearn_worker.py"),
            "--data",
            str(data),
            "--phases",
            str(scratch / "phases.json"),
            *options,
        ],
        read_detail=_read_worker,
    )


def compare_fairness(signet_output: Path, fairlearn_values: dict[str, Any]) -> dict[str, Any]:
    """Largest absolute difference between Signet's fairness results and fairlearn's, and how many compared."""
    results = json.loads(signet_output.read_text())["results"]
    worst, compared, missing = 0.0, 0, []
    for result in results:
        if result.get("check") != "fairness" or result.get("value") is None:
            continue
        metric, group = result["metric"], result.get("group")
        expected = fairlearn_values.get(metric)
        if isinstance(expected, dict):
            expected = expected.get(str(group))
        if expected is None:
            missing.append(f"{metric}/{group}")
            continue
        worst = max(worst, abs(float(result["value"]) - float(expected)))
        compared += 1
    return {"compared": compared, "max_abs_diff": worst, "not_in_fairlearn": missing}


def parse_args() -> tuple[argparse.Namespace, list[str]]:
    """The options, and the contenders to run (each Signet one followed by its probe)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in each of reference and current")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each contender (median reported)")
    parser.add_argument(
        "--skip-evidently",
        action="store_true",
        help="Signet only: skip the other tools (Evidently and fairlearn)",
    )
    parser.add_argument("--contenders", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--data", type=Path, default=None, help="data folder (default bench/data/<rows>)")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before a contender is killed")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"before each run, wait up to SECONDS for the machine's CPU use to fall below {QUIET_CPU_PERCENT:.0f}%%",
    )
    parser.add_argument("--note", default="", help="free text stored with the results (e.g. what else ran)")
    args = parser.parse_args()

    names = [n.strip() for n in args.contenders.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALL))
    if unknown or args.repeat < 1:
        parser.error(f"unknown contenders {unknown}" if unknown else "--repeat must be at least 1")
    if args.skip_evidently:
        names = [n for n in names if n.startswith("signet")]
    if "evidently" in names and not EVIDENTLY_PYTHON.exists():
        parser.error(f"{EVIDENTLY_PYTHON} is missing: run `bash bench/setup.sh` first, or pass --skip-evidently")
    names = [m for n in names for m in ([n, n + PROBE] if n.startswith("signet") else [n])]

    return args, names


def write_record(
    args: argparse.Namespace,
    summaries: dict[str, dict[str, Any]],
    ratios: dict[str, float | None],
    verdicts: dict[str, Any],
    checks: dict[str, Any],
    runs: dict[str, list[Measurement]],
) -> Path:
    """Write the results as JSON to --results/<UTC timestamp>.json and return the path."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    args.results.mkdir(parents=True, exist_ok=True)
    path: Path = args.results / f"{stamp}.json"
    record = {
        "timestamp": stamp,
        "rows": args.rows,
        "seed": args.seed,
        "repeat": args.repeat,
        "note": args.note,
        "machine": machine(),
        "memory_method": "peak_rss_mb: os.wait4 ru_maxrss of the contender's process; "
        "tree_peak_mb: psutil sum of RSS over the process tree, sampled every 20 ms",
        "summaries": summaries,
        "ratios": ratios,
        "goals": verdicts,
        "checks": checks,
        "runs": {
            name: [
                {
                    "wall_s": m.wall_s,
                    "cpu_s": m.cpu_s,
                    "peak_rss_mb": m.peak_rss_mb,
                    "tree_peak_mb": m.tree_peak_mb,
                    "returncode": m.returncode,
                    "loadavg_before": m.loadavg_before,
                    "other_cpu_pct": m.other_cpu_pct,
                    "phases": m.phases,
                    "detail": {k: v for k, v in m.detail.items() if k != "values"},
                }
                for m in ms
            ]
            for name, ms in runs.items()
        },
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def main() -> None:
    args, names = parse_args()
    data = args.data or BENCH / "data" / str(args.rows)
    t = time.perf_counter()
    # In a child process, so that this process stays small: a child's ru_maxrss starts from the RSS of the
    # process that forked it (Linux carries the high-water mark across fork and exec), so a parent holding
    # generated data would inflate every contender's figure. This one holds ~20 MB (psutil and stdlib).
    generator = [sys.executable, str(BENCH / "generate.py"), "--rows", str(args.rows), "--seed", str(args.seed)]
    subprocess.run([*generator, "--out", str(data)], check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    print(f"data: {data} ({args.rows:,} + {args.rows:,} rows, ready in {time.perf_counter() - t:.1f} s)")
    # Signet's bytecode, as pip wrote fairlearn's and Evidently's at install time (`make install` does this too):
    # an editable install has none, and with PYTHONDONTWRITEBYTECODE set every run would compile the sources.
    compiling = [str(MAIN_PYTHON), "-m", "compileall", "-q", str(REPO / "apps"), str(REPO / "manage.py")]
    subprocess.run(compiling, check=True, stdout=subprocess.DEVNULL)  # noqa: S603

    with tempfile.TemporaryDirectory(prefix="signet-bench-") as tmp:
        scratch_root = Path(tmp)
        selected = contenders(data, names, scratch_root / "signet-var")
        runs: dict[str, list[Measurement]] = {c.name: [] for c in selected}
        for repeat in range(args.repeat):
            for contender in selected:  # interleaved, so a burst of other load hits every contender alike
                scratch = scratch_root / f"{contender.name}-{repeat}"
                waited = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else 0.0
                m = measure(contender, scratch, args.timeout)
                runs[contender.name].append(m)
                print(
                    f"  run {repeat + 1}/{args.repeat} {contender.name:<22} {m.wall_s:8.2f} s wall "
                    f"{m.cpu_s:8.2f} s CPU {m.peak_rss_mb:6.0f} MB (other CPU {m.other_cpu_pct:.0f}%, "
                    f"waited {waited:.0f} s, exit {m.returncode})",
                    flush=True,
                )
        checks: dict[str, Any] = {}
        for peer in ("fairlearn", "fairlearn-frame"):
            if "signet-fairness" in runs and peer in runs:
                checks[f"fairness_vs_{peer}"] = compare_fairness(
                    scratch_root / "signet-fairness-0" / "output.json", runs[peer][0].detail["values"]
                )

    summaries = {name: summarise(ms) for name, ms in runs.items()}
    add_work_times(summaries)
    ratios = compute_ratios(summaries)
    print()
    print_table(args.rows, summaries, ratios)
    verdicts = goals(args.rows, summaries, ratios)
    for label, verdict in verdicts.items():
        print(f"goal: {label}: {verdict['value']} -> {'met' if verdict['met'] else 'NOT met'}")
    for name, value in checks.items():
        print(f"check: {name}: {value}")
    others = [m.other_cpu_pct for ms in runs.values() for m in ms]
    if others and max(others) > 10.0:
        print(f"note: other processes used up to {max(others):.0f}% of the machine's CPU during a run: noisy figures")

    path = write_record(args, summaries, ratios, verdicts, checks, runs)
    print(f"\nwritten: {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


if __name__ == "__main__":
    main()
