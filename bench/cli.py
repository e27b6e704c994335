"""`python -m bench`: run every workload on Stepline and moto, print a table, write JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.moto_peer import run_moto
from bench.results import (
    WorkloadResult,
    format_table,
    load_average,
    moto_figures,
    stepline_figures,
    workload_result,
    write_json,
)
from bench.stepline_embedded import MIN_SAMPLE_SECONDS, run_stepline
from bench.workloads import Workload, all_workloads

BUSY_LOAD = 0.5
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        epilog="python -m bench --cluster [options] runs the Redis + Celery benchmark instead"
        " (python -m bench.cluster --help lists its options).",
    )
    parser.add_argument("--repeats", type=int, default=7, help="timed Stepline samples (median)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed Stepline runs first")
    parser.add_argument(
        "--min-sample-seconds",
        type=float,
        default=MIN_SAMPLE_SECONDS,
        help="a Stepline sample repeats the execution until it lasts about this long",
    )
    parser.add_argument("--moto-repeats", type=int, default=2, help="moto runs (best)")
    parser.add_argument(
        "--moto-timeout", type=float, default=120.0, help="seconds before a moto run is stopped"
    )
    parser.add_argument("--no-moto", action="store_true", help="skip the moto peer")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only these workloads (by name)"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results path")
    parser.add_argument(
        "--strict", action="store_true", help="exit 2 when a performance target is not met"
    )
    return parser.parse_args(argv)


def selected(names: list[str] | None) -> list[Workload]:
    """The workloads to run, in report order."""
    workloads = all_workloads()
    if not names:
        return workloads
    unknown = set(names) - {workload.name for workload in workloads}
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(sorted(unknown))}")
    return [workload for workload in workloads if workload.name in names]


def measure(workload: Workload, args: argparse.Namespace) -> WorkloadResult:
    """Run one workload on both engines and summarise it."""
    print(f"- {workload.description}: stepline x{args.repeats}", end="", flush=True)
    runs = run_stepline(workload, args.repeats, args.warmup, args.min_sample_seconds)
    stepline = stepline_figures(workload, runs)
    moto = None
    if workload.peer and not args.no_moto and args.moto_repeats > 0:
        print(f", moto x{args.moto_repeats}", end="", flush=True)
        moto = moto_figures(workload, run_moto(workload, args.moto_repeats, args.moto_timeout))
    print()
    return workload_result(workload, stepline, moto)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 1 if a correctness check failed, 2 if --strict and a target missed.

    `--cluster` runs the Redis + Celery benchmark instead (`bench/cluster.py`), with the
    rest of the command line as its options.
    """
    arguments = sys.argv[1:] if argv is None else argv
    if "--cluster" in arguments:
        from bench.cluster import main as cluster_main

        return cluster_main([a for a in arguments if a != "--cluster"])
    args = parse_args(arguments)
    load_at_start = _warn_if_busy()
    results = [measure(workload, args) for workload in selected(args.only)]
    print()
    print(format_table(results))
    print(_legend(args))
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    write_json(args.output, results, settings, load_at_start)
    print(f"results written to {args.output}")
    return _exit_code(results, args.strict)


def _warn_if_busy() -> float | None:
    """Say so when the machine is already busy (figures would be low and noisy); the load."""
    load = load_average()
    if load is not None and load > BUSY_LOAD:
        print(f"warning: load average is {load} before starting; figures will be noisy")
    return load


def _legend(args: argparse.Namespace) -> str:
    """How the table's figures were taken."""
    text = (
        f"\nstepline/s: median of {args.repeats} samples (each >= {args.min_sample_seconds} s of"
        f" back-to-back executions) after {args.warmup} warm-up runs"
    )
    if args.no_moto or args.moto_repeats <= 0:
        return text + "; moto not run."
    return (
        f"{text}; moto/s: best of {args.moto_repeats} runs by moto's own start/stop dates;"
        " ratio: stepline median / moto best."
    )


def _exit_code(results: list[WorkloadResult], strict: bool) -> int:
    """Non-zero when a correctness check failed, or (with `strict`) a target was missed."""
    for result in results:
        moto_ok = result.moto is None or result.moto.checks_passed
        if not (result.stepline.checks_passed and moto_ok):
            return 1
    if strict and not all(ok for result in results for ok in result.targets.values()):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
