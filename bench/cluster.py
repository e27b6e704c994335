"""`python -m bench.cluster` (or `python -m bench --cluster`): the Redis + Celery benchmark.

For each number of worker processes (1, then 2; each `--concurrency 1`, plus the
scheduler process, against a private redis-server) it measures the embedded benchmark's
workloads and a Map of Tasks one execution at a time, 1,000 five-state executions started
together, Redis bytes per finished execution and, with 2 workers, the peak RSS of every
worker process during a 10,000-item Map. Then it counts the Redis round trips and Celery
hops of one execution of each workload with MONITOR, and optionally (`--profile`)
samples the workers with py-spy. It prints a table against the issue's targets and
writes everything to `bench/results/cluster.json`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.cluster_counts import capture_wire
from bench.cluster_measure import (
    measure_concurrent,
    measure_floor,
    measure_rss,
    measure_throughput,
)
from bench.cluster_profile import format_profile, profile_workload, py_spy
from bench.cluster_report import (
    Configuration,
    failed_checks,
    format_cpu,
    format_table,
    format_wire,
    table_rows,
    write_json,
)
from bench.cluster_runs import ClusterClient
from bench.cluster_setup import started_cluster
from bench.results import environment, load_average
from bench.workloads import (
    Workload,
    counting_loop,
    inline_map,
    parallel,
    pass_chain,
    short_chain,
    task_chain,
    task_map,
)

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_OUTPUT = RESULTS / "cluster.json"
BUSY_LOAD = 0.5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    add = parser.add_argument
    add("--workers", type=int, nargs="+", default=[1, 2], help="worker processes, per run")
    add("--repeats", type=int, default=5, help="timed executions per workload (median)")
    add("--warmup", type=int, default=1, help="untimed executions first (Maps: 20 items)")
    add("--budget", type=float, default=20.0, help="seconds of timed runs per workload, at most")
    add("--timeout", type=float, default=60.0, help="seconds before an execution is stopped")
    add("--executions", type=int, default=1000, help="executions started together (0: skip)")
    add("--floor", type=int, default=1000, help="stale step messages for the floor (0: skip)")
    add("--rss-items", type=int, default=10_000, help="items of the RSS Map (0: skip)")
    add("--rss-workers", type=int, nargs="*", default=[2], help="configurations that run it")
    add("--wire-items", type=int, default=100, help="Map items when counting round trips")
    add("--no-wire", action="store_true", help="skip counting round trips with MONITOR")
    add("--profile", nargs="*", metavar="NAME", help="py-spy these workloads (default: slow ones)")
    add("--profile-seconds", type=float, default=8.0, help="seconds sampled per workload")
    add("--prefetch", type=int, help="STEPLINE_PREFETCH for the workers (default: theirs)")
    add("--only", nargs="+", metavar="NAME", help="sequential workloads to run (by name)")
    add("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results path")
    add("--strict", action="store_true", help="exit 2 when a target is not met")
    return parser.parse_args(argv)


def sequential_workloads(names: list[str] | None) -> list[Workload]:
    """The workloads timed one execution at a time, in report order."""
    workloads = [pass_chain(), inline_map(), parallel(), counting_loop(), task_chain(), task_map()]
    if not names:
        return workloads
    unknown = set(names) - {workload.name for workload in workloads}
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(sorted(unknown))}")
    return [workload for workload in workloads if workload.name in names]


def wire_workloads(items: int) -> list[Workload]:
    """The workloads whose round trips are counted (Maps smaller: the cost is per item)."""
    return [
        short_chain(),
        pass_chain(),
        counting_loop(),
        parallel(),
        inline_map(items),
        task_chain(),
        task_map(items),
    ]


def profiled_workloads(names: list[str]) -> list[tuple[Workload, int]]:
    """Workloads to sample and how many executions each round starts together."""
    chosen = {
        "inline_map": (inline_map(), 1),
        "task_chain": (task_chain(), 1),
        "task_map": (task_map(), 1),
        "short_chain": (short_chain(), 200),
        "pass_chain": (pass_chain(), 1),
        "parallel": (parallel(), 1),
        "choice_loop": (counting_loop(), 1),
    }
    return [
        chosen[name] for name in names or ["inline_map", "task_chain", "task_map", "short_chain"]
    ]


def measure_configuration(workers: int, folder: Path, args: argparse.Namespace) -> Configuration:
    """Everything measured with `workers` worker processes."""
    prefetch = str(args.prefetch) if args.prefetch else os.environ.get("STEPLINE_PREFETCH", "1")
    config = Configuration(workers, prefetch, load_average_at_start=load_average())
    started = time.monotonic()
    print(f"== {workers} worker process(es), prefetch {prefetch}")
    with started_cluster(workers, folder, int(prefetch)) as cluster:
        client = ClusterClient(cluster)
        for workload in sequential_workloads(args.only):
            _progress(workload.description)
            config.throughput.append(
                measure_throughput(
                    client, workload, args.repeats, args.warmup, args.timeout, args.budget
                )
            )
        if args.executions > 0:
            _progress(f"{args.executions} x {short_chain().description}, started together")
            config.concurrent = measure_concurrent(
                client, short_chain(), args.executions, 2 * args.timeout
            )
        if args.floor > 0:
            _progress(f"{args.floor} stale step messages (the Celery floor)")
            config.floor = measure_floor(client, args.floor, 2 * args.timeout)
        if args.rss_items > 0 and workers in args.rss_workers:
            _progress(f"{args.rss_items}-item Map, peak RSS")
            config.rss = measure_rss(client, inline_map(args.rss_items), 2 * args.timeout)
        if not args.no_wire and workers == max(args.workers):
            _progress("round trips and hops (MONITOR)")
            config.wire = [
                capture_wire(client, workload, RESULTS / "cluster-wire")
                for workload in wire_workloads(args.wire_items)
            ]
        if args.profile is not None and workers == max(args.workers):
            _profile(client, args)
    config.load_average_at_end = load_average()
    config.seconds = time.monotonic() - started
    return config


def _progress(text: str) -> None:
    """Say what is being measured."""
    print(f"- {text}", flush=True)


def _profile(client: ClusterClient, args: argparse.Namespace) -> None:
    """Sample the workers with py-spy and print (and save) the summaries."""
    if py_spy() is None:
        print("py-spy is not installed (pip install py-spy): no profile")
        return
    folder = RESULTS / "cluster-profile"
    for workload, batch in profiled_workloads(args.profile):
        _progress(f"profiling {workload.description} for {args.profile_seconds:.0f} s (py-spy)")
        profiles = profile_workload(client, workload, args.profile_seconds, folder, 25, batch)
        text = format_profile(workload, profiles)
        (folder / f"{workload.name}.summary.txt").write_text(text + "\n")
        print(text)


def main(argv: list[str] | None = None) -> int:
    """Run the cluster benchmark; 1 if a check failed, 2 if --strict and a target missed."""
    args = parse_args(argv)
    load = load_average()
    if load is not None and load > BUSY_LOAD:
        print(f"warning: load average is {load} before starting; figures will be low and noisy")
    with tempfile.TemporaryDirectory(prefix="stepline-bench-") as scratch:
        configs = [
            measure_configuration(workers, Path(scratch) / f"workers{workers}", args)
            for workers in args.workers
        ]
    rows = table_rows(configs)
    print()
    print(format_table(rows, args.workers))
    for config in configs:
        print(f"\nCPU ms per unit of work, {config.workers} worker(s)")
        print(format_cpu(config))
    for config in configs:
        if config.wire:
            print(f"\nround trips and Celery hops per execution ({config.workers} workers)")
            print(format_wire(config.wire))
    write_json(args.output, configs, rows, _environment(load), _settings(args))
    print(f"\nresults written to {args.output}")
    return _exit_code(configs, [row.met for row in rows], args.strict)


def _environment(load: float | None) -> dict[str, Any]:
    """Where and when, with the Redis and Celery versions."""
    import celery
    import redis

    found = environment(load)
    found.pop("moto", None)
    found["celery"] = celery.__version__
    found["redis_py"] = redis.__version__
    return found


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The command line, JSON-ready."""
    return {
        key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()
    }


def _exit_code(configs: list[Configuration], verdicts: list[bool | None], strict: bool) -> int:
    """1 when an execution went wrong, 2 (with `strict`) when a target was missed."""
    failed = failed_checks(configs)
    if failed:
        print(f"CHECKS FAILED: {', '.join(failed)}")
        return 1
    return 2 if strict and False in verdicts else 0


if __name__ == "__main__":
    sys.exit(main())
