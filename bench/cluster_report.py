"""The cluster benchmark's report: figures per configuration, targets, table and JSON.

Targets are the issue's, for a 2-core machine with 2 worker processes; they are judged
on the configuration with `TARGET_WORKERS` workers (the others are shown for scale).
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.cluster_counts import WireCounts
from bench.cluster_measure import (
    ConcurrentFigures,
    FloorFigures,
    RssFigures,
    ThroughputFigures,
)

TARGET_WORKERS = 2
KIB = 1024


@dataclass(slots=True)
class Configuration:
    """Everything measured with one number of worker processes."""

    workers: int
    prefetch: str
    throughput: list[ThroughputFigures] = field(default_factory=list)
    concurrent: ConcurrentFigures | None = None
    rss: RssFigures | None = None
    floor: FloorFigures | None = None
    wire: list[WireCounts] = field(default_factory=list)
    load_average_at_start: float | None = None
    load_average_at_end: float | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Target:
    """A figure's bound: `>= 10,000` or `<= 8 KiB`."""

    at_least: bool
    bound: float
    text: str

    def met(self, value: float | None) -> bool | None:
        """Whether `value` meets it (None when there is no value)."""
        if value is None or math.isnan(value):
            return None
        compare = operator.ge if self.at_least else operator.le
        return bool(compare(value, self.bound))


@dataclass(slots=True)
class Row:
    """One line of the table: a figure for each configuration, and its target."""

    label: str
    values: dict[int, float | None]
    """By number of workers."""
    target: str = ""
    met: bool | None = None
    """Judged on the `TARGET_WORKERS` configuration; None without a target or value."""


Getter = Callable[[Configuration], float | None]


def _throughput(name: str, per_item: bool = False) -> Getter:
    """The median rate of workload `name` (per Map item when `per_item`)."""

    def get(config: Configuration) -> float | None:
        for figures in config.throughput:
            if figures.name == name:
                if per_item:
                    return (figures.work_per_run - 1) / (figures.median_ms / 1000)
                return figures.median_per_s
        return None

    return get


def _concurrent(attribute: str) -> Getter:
    """A figure of the concurrent-executions run."""

    def get(config: Configuration) -> float | None:
        return None if config.concurrent is None else float(getattr(config.concurrent, attribute))

    return get


def _rss(config: Configuration) -> float | None:
    """The worst peak RSS of a worker process during the large Map, in MiB."""
    return None if config.rss is None else config.rss.worst_mib


def _rss_rate(config: Configuration) -> float | None:
    """Items per second of the large Map."""
    return None if config.rss is None else config.rss.items_per_s


def _floor(config: Configuration) -> float | None:
    """Stale step messages per second: the most hops per second the workers manage."""
    return None if config.floor is None else config.floor.messages_per_s


def _floor_cpu(config: Configuration) -> float | None:
    """Worker CPU milliseconds (main and pool processes) per stale step message."""
    if config.floor is None:
        return None
    cpu = config.floor.cpu_ms_per_message
    return cpu.get("worker main", 0.0) + cpu.get("worker pool", 0.0)


def _floor_send(config: Configuration) -> float | None:
    """Milliseconds this process took per Celery `send_task`."""
    return None if config.floor is None else config.floor.send_ms


def _at_least(bound: float) -> Target:
    """A throughput target."""
    return Target(True, bound, f">= {bound:,.0f}")


ROWS: list[tuple[str, Getter, Target | None]] = [
    ("Pass chain (200), transitions/s", _throughput("pass_chain"), _at_least(10_000)),
    ("Map of Pass (1,000), items/s", _throughput("inline_map", True), _at_least(5_000)),
    ("Parallel 10 x 10, transitions/s", _throughput("parallel"), None),
    ("Choice loop (to 500), transitions/s", _throughput("choice_loop"), _at_least(10_000)),
    ("Task chain (50), Task states/s", _throughput("task_chain"), _at_least(300)),
    ("Map of Task (1,000), Task items/s", _throughput("task_map", True), _at_least(600)),
    ("5-state executions, 1,000 at once, executions/s", _concurrent("executions_per_s"),
     _at_least(300)),
    ("  start-to-finish p50, ms", _concurrent("p50_ms"), None),
    ("  start-to-finish p99, ms", _concurrent("p99_ms"), None),
    ("  client start rate, starts/s", _concurrent("starts_per_s"), None),
    ("Redis bytes per finished execution (INFO)", _concurrent("redis_bytes_per_execution"),
     Target(False, 8 * KIB, "<= 8 KiB")),
    ("  its record + history keys (MEMORY USAGE)", _concurrent("key_bytes_per_execution"), None),
    ("Map of Pass for RSS (10,000), items/s", _rss_rate, None),
    ("Peak RSS of a worker process, MiB", _rss, Target(False, 200, "<= 200 MiB")),
    ("Celery floor: stale step messages/s", _floor, None),
    ("  worker CPU per message, ms", _floor_cpu, None),
    ("  client send_task per message, ms", _floor_send, None),
]  # fmt: skip


def table_rows(configs: list[Configuration]) -> list[Row]:
    """Every figure for every configuration, judged against its target."""
    rows = []
    for label, get, target in ROWS:
        values = {config.workers: get(config) for config in configs}
        met = target.met(values.get(TARGET_WORKERS)) if target else None
        rows.append(Row(label, values, target.text if target else "", met))
    return rows


def format_table(rows: list[Row], workers: list[int]) -> str:
    """The human-readable table."""
    heads = "".join(f"{f'{n} worker' + ('s' if n > 1 else ''):>12}" for n in workers)
    header = f"{'figure':<48}{heads}  {'target':<12} {TARGET_WORKERS} workers"
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = "".join(f"{_cell(row.values.get(n)):>12}" for n in workers)
        verdict = {True: "met", False: "NOT met", None: ""}[row.met]
        lines.append(f"{row.label:<48}{cells}  {row.target:<12} {verdict}")
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    """A figure, rounded for reading."""
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def format_wire(counts: list[WireCounts]) -> str:
    """Round trips and hops per execution and per unit of work."""
    header = (
        f"{'workload':<50}{'round trips':>12}{'per unit':>10}{'step hops':>10}"
        f"{'task hops':>10}{'hops/unit':>10}{'in Lua':>8}"
    )
    lines = [header, "-" * len(header)]
    for count in counts:
        steps, tasks = count.celery_hops.values()
        trips = count.round_trips
        lines.append(
            f"{count.description:<50}{trips:>12}{trips / count.units:>10.2f}{steps:>10}"
            f"{tasks:>10}{(steps + tasks) / count.units:>10.2f}{count.script_commands:>8}"
        )
    return "\n".join(lines)


CPU_GROUPS = ("worker main", "worker pool", "scheduler", "redis", "client")


def format_cpu(config: Configuration) -> str:
    """CPU milliseconds per unit of work by process group, and the cores in use."""
    heads = "".join(f"{group:>13}" for group in CPU_GROUPS)
    header = f"{'workload':<42}{heads}{'total':>9}{'cores':>7}"
    lines = [header, "-" * len(header)]
    for figures in config.throughput:
        cpu = figures.cpu_ms_per_unit
        cells = "".join(f"{cpu.get(group, 0.0):>13.3f}" for group in CPU_GROUPS)
        lines.append(
            f"{figures.description:<42}{cells}{sum(cpu.values()):>9.3f}{figures.cores_used:>7.2f}"
        )
    return "\n".join(lines)


def failed_checks(configs: list[Configuration]) -> list[str]:
    """Every measurement whose executions did not all succeed as expected."""
    failed = []
    for config in configs:
        measured: list[Any] = [*config.throughput, config.concurrent, config.rss, config.floor]
        for figures in measured:
            if figures is not None and not figures.checks_passed:
                name = getattr(figures, "name", type(figures).__name__)
                failed.append(f"{name} with {config.workers} worker(s)")
    return failed


def write_json(
    path: Path,
    configs: list[Configuration],
    rows: list[Row],
    environment: dict[str, Any],
    settings: dict[str, Any],
) -> None:
    """Write every figure, sample and setting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "environment": environment,
        "settings": settings,
        "table": [asdict(row) for row in rows],
        "configurations": [asdict(config) for config in configs],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
