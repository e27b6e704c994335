"""`python -m bench.hotspots`: profile the embedded engine on the workloads with cProfile.

Each workload runs once untimed (to compile and warm caches), then `--runs` times under
cProfile. The top functions by own time (tottime) are printed per workload and for all
workloads together, and the raw stats are saved as `bench/results/<workload>.pstats`
(open them with `python -m pstats` or snakeviz). cProfile inflates the cost of small,
frequently called functions, so read the ranking, not the absolute times.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
from pathlib import Path

from bench.stepline_embedded import new_runtime
from bench.workloads import Workload, all_workloads

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="profiled runs per workload")
    parser.add_argument("--top", type=int, default=15, help="functions listed per workload")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumtime)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="profile only these workloads")
    return parser.parse_args(argv)


def profile_workload(workload: Workload, runs: int) -> cProfile.Profile:
    """Profile `runs` executions of `workload` on a warmed-up embedded runtime."""
    runtime = new_runtime()
    definition = json.dumps(workload.definition)
    try:
        runtime.run(definition, workload.input_value)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            runtime.run(definition, workload.input_value)
        profiler.disable()
    finally:
        runtime.close()
    return profiler


def top_functions(stats: pstats.Stats, sort: str, count: int) -> str:
    """The `count` heaviest functions, as pstats prints them, paths shortened."""
    buffer = io.StringIO()
    stats.stream = buffer  # type: ignore[attr-defined]
    stats.strip_dirs().sort_stats(sort).print_stats(count)
    text = buffer.getvalue()
    return text[text.find("   ncalls") :]


def main(argv: list[str] | None = None) -> int:
    """Profile each selected workload, then all of them together."""
    args = parse_args(argv)
    workloads = [w for w in all_workloads() if not args.only or w.name in args.only]
    RESULTS.mkdir(parents=True, exist_ok=True)
    combined: pstats.Stats | None = None
    for workload in workloads:
        profiler = profile_workload(workload, args.runs)
        profiler.dump_stats(RESULTS / f"{workload.name}.pstats")
        stats = pstats.Stats(profiler)
        total = stats.total_tt  # type: ignore[attr-defined]
        per_unit = total / (args.runs * workload.work) * 1e6
        print(f"== {workload.description}: {args.runs} runs, {total:.3f} s profiled,")
        print(f"   {per_unit:.1f} us per {workload.unit[:-1]} under cProfile")
        print(top_functions(stats, args.sort, args.top))
        combined = stats if combined is None else _add(combined, profiler)
    if combined is not None and len(workloads) > 1:
        print("== all workloads together")
        print(top_functions(combined, args.sort, args.top))
    return 0


def _add(stats: pstats.Stats, profiler: cProfile.Profile) -> pstats.Stats:
    """`stats` with `profiler`'s samples added."""
    stats.add(profiler)
    return stats


if __name__ == "__main__":
    sys.exit(main())
