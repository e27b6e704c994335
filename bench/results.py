"""Turning timed runs into figures: throughput, ratios, targets, the table and the JSON."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.moto_peer import MotoRun, moto_version
from bench.stepline_embedded import SteplineRun
from bench.workloads import Workload

ABSOLUTE_TARGET = 20_000.0
"""Transitions/s the embedded engine must reach on the chain and the loop."""
ABSOLUTE_TARGET_WORKLOADS = ("pass_chain", "choice_loop")
RATIO_TARGET = 100.0
"""How many times moto's throughput the embedded engine must reach on every workload."""


@dataclass(slots=True)
class SteplineFigures:
    """Stepline's throughput on one workload over its timed samples."""

    runs: int
    """Timed samples."""
    executions_per_sample: int
    median_per_s: float
    best_per_s: float
    worst_per_s: float
    median_ms: float
    """Median time of one execution."""
    checks_passed: bool
    """Every execution SUCCEEDED, with the expected output and count of states entered."""
    samples_per_s: list[float] = field(default_factory=list)
    """Each timed sample's throughput, in run order."""


@dataclass(slots=True)
class MotoFigures:
    """moto's throughput on one workload over its runs."""

    runs: int
    completed: int
    best_per_s: float
    """Best run, timed by moto's own startDate/stopDate (the figure kindest to moto)."""
    best_wall_per_s: float
    """Best run, timed from StartExecution until polling saw it finish."""
    best_ms: float
    checks_passed: bool
    samples_per_s: list[float] = field(default_factory=list)
    """Each run's throughput by moto's own dates, in run order."""


@dataclass(slots=True)
class WorkloadResult:
    """Everything measured for one workload."""

    name: str
    description: str
    unit: str
    work_per_run: int
    stepline: SteplineFigures
    moto: MotoFigures | None = None
    ratio: float | None = None
    """Stepline median / moto best."""
    targets: dict[str, bool] = field(default_factory=dict)


def stepline_figures(workload: Workload, runs: list[SteplineRun]) -> SteplineFigures:
    """Summarise the embedded engine's timed samples of `workload`."""
    rates = [workload.work * run.executions / run.seconds for run in runs]
    return SteplineFigures(
        runs=len(runs),
        executions_per_sample=runs[0].executions,
        median_per_s=statistics.median(rates),
        best_per_s=max(rates),
        worst_per_s=min(rates),
        median_ms=statistics.median(run.seconds / run.executions for run in runs) * 1000,
        checks_passed=all(_stepline_checks(workload, run) for run in runs),
        samples_per_s=rates,
    )


def _stepline_checks(workload: Workload, run: SteplineRun) -> bool:
    """Every execution SUCCEEDED, with the expected output and count of states entered."""
    expected = workload.transitions
    return (
        all(status == "SUCCEEDED" for status in run.statuses)
        and all(output == workload.expected_output for output in run.outputs)
        and all(count == expected for count in run.states_entered + run.transitions)
    )


def moto_figures(workload: Workload, runs: list[MotoRun]) -> MotoFigures:
    """Summarise moto's runs of `workload` (a timed-out run counts states it entered)."""
    done = [run for run in runs if run.status == "SUCCEEDED"]
    measured = done or runs
    checks = bool(done) and all(
        run.output == workload.expected_output and run.states_entered == workload.transitions
        for run in done
    )
    return MotoFigures(
        runs=len(runs),
        completed=len(done),
        best_per_s=max(run.states_entered / run.engine_seconds for run in measured),
        best_wall_per_s=max(run.states_entered / run.wall_seconds for run in measured),
        best_ms=min(run.engine_seconds for run in measured) * 1000,
        checks_passed=checks,
        samples_per_s=[run.states_entered / run.engine_seconds for run in runs],
    )


def workload_result(
    workload: Workload, stepline: SteplineFigures, moto: MotoFigures | None
) -> WorkloadResult:
    """Combine both engines' figures and judge the targets."""
    result = WorkloadResult(
        workload.name, workload.description, workload.unit, workload.work, stepline, moto
    )
    if workload.name in ABSOLUTE_TARGET_WORKLOADS:
        result.targets[f">= {ABSOLUTE_TARGET:,.0f}/s"] = stepline.median_per_s >= ABSOLUTE_TARGET
    if moto is not None:
        result.ratio = stepline.median_per_s / moto.best_per_s
        result.targets[f">= {RATIO_TARGET:.0f}x moto"] = result.ratio >= RATIO_TARGET
    return result


def environment(load_at_start: float | None = None) -> dict[str, Any]:
    """Where and when the figures were taken."""
    return {
        "load_average_1m_at_start": load_at_start,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_1m_at_end": load_average(),
        "moto": moto_version(),
        "git_commit": _git_commit(),
    }


def load_average() -> float | None:
    """The 1-minute load average (other work on the machine skews the figures)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _git_commit() -> str | None:
    """The working tree's HEAD commit, if git can tell."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def write_json(
    path: Path,
    results: list[WorkloadResult],
    settings: dict[str, Any],
    load_at_start: float | None = None,
) -> None:
    """Write the machine-readable results."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "environment": environment(load_at_start),
        "settings": settings,
        "workloads": [asdict(result) for result in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def format_table(results: list[WorkloadResult]) -> str:
    """The human-readable table."""
    header = (
        f"{'workload':<12} {'unit':<11} {'per run':>7} {'stepline/s':>11} {'best/s':>9}"
        f" {'moto/s':>8} {'ratio':>8}  targets"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        lines.append(_row(result))
    return "\n".join(lines)


def _row(result: WorkloadResult) -> str:
    """One table row."""
    moto = f"{result.moto.best_per_s:8.1f}" if result.moto else f"{'-':>8}"
    ratio = f"{result.ratio:7.0f}x" if result.ratio is not None else f"{'-':>8}"
    targets = ", ".join(
        f"{name}: {'met' if ok else 'NOT met'}" for name, ok in result.targets.items()
    )
    flag = "" if result.stepline.checks_passed else "  [STEPLINE CHECKS FAILED]"
    if result.moto is not None and result.moto.completed < result.moto.runs:
        flag += f"  [moto finished {result.moto.completed}/{result.moto.runs} runs in time]"
    elif result.moto is not None and not result.moto.checks_passed:
        flag += "  [MOTO CHECKS FAILED]"
    return (
        f"{result.name:<12} {result.unit:<11} {result.work_per_run:>7}"
        f" {result.stepline.median_per_s:11,.0f} {result.stepline.best_per_s:9,.0f}"
        f" {moto} {ratio}  {targets}{flag}"
    )
