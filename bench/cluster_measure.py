"""The cluster measurements: sequential throughput, many concurrent executions, memory.

Each function runs executions through a `ClusterClient` and returns plain dataclasses of
figures (they go to the JSON as they are).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field, replace

from bench.cluster_runs import ClusterClient, Finished, events_key, exec_key
from bench.cluster_setup import cpu_seconds, status_kib
from bench.workloads import Workload
from scheduler.engine.messages import Kind, Message
from workers.app import STEPS_QUEUE
from workers.coalesce import Coalescing

KEY_SAMPLE = 20
"""Executions whose keys are sized one by one with MEMORY USAGE."""
WARMUP_ITEMS = 20
"""Items in a Map's warm-up run."""
UNACKED_KEY = "unacked"
"""kombu's Redis transport: delivered, not yet acknowledged messages."""
SETTLE_SECONDS = 0.5
"""Pause after the last execution ends, so late acks and bookkeeping land first."""


@dataclass(slots=True)
class ThroughputFigures:
    """One workload, one execution at a time: units per second of each execution."""

    name: str
    description: str
    unit: str
    work_per_run: int
    runs: int
    median_per_s: float
    """Median over runs timed from just before StartExecution until this process heard
    the execution end (see `ClusterClient.run`)."""
    best_per_s: float
    median_ms: float
    """Median start-to-finish wall time."""
    median_by_dates_per_s: float
    """Median by the records' own dates, which leave out the last step's work (its stop
    date is the time that step began)."""
    checks_passed: bool
    """Every run SUCCEEDED with the expected output, transitions and StateEntered events."""
    cores_used: float
    """CPU seconds of every cluster process, Redis and this client over the timed runs'
    wall time (2.0 is the whole 2-core machine)."""
    cpu_ms_per_unit: dict[str, float] = field(default_factory=dict)
    """CPU milliseconds per unit of work, by process group (see `cpu_groups`)."""
    samples_per_s: list[float] = field(default_factory=list)


@dataclass(slots=True)
class ConcurrentFigures:
    """Many executions started back to back, then waited for together."""

    executions: int
    finished: int
    start_seconds: float
    """Time this process took to start them all (one client thread)."""
    starts_per_s: float
    span_seconds: float
    """First start date to last stop date."""
    executions_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    checks_passed: bool
    redis_bytes_per_execution: float
    """INFO memory `used_memory` after minus before, over the executions."""
    key_bytes_per_execution: float
    """MEMORY USAGE of one execution's record hash and history list (a sample's mean)."""


@dataclass(slots=True)
class RssFigures:
    """Peak resident memory of every cluster process during one large Map."""

    items: int
    seconds: float
    items_per_s: float
    checks_passed: bool
    peak_kib_before: dict[str, int | None]
    """VmHWM of each process before the Map started."""
    peak_kib_after: dict[str, int | None]
    """VmHWM of each process after it ended: the peak over the process's life so far."""
    worst_mib: float
    """The largest VmHWM among the worker processes (mains and pool children)."""


@dataclass(slots=True)
class FloorFigures:
    """The Celery floor: `stepline.step` messages for an execution that does not exist.

    Each costs a worker what every hop costs (BRPOP, unacked bookkeeping, hand-off to the
    pool child, ack) plus the engine's cheapest step: one pipelined read that finds
    nothing and one pipelined clean-up. No engine work can make a hop cheaper than this.
    """

    messages: int
    seconds: float
    """First send until the queue and the unacked set are both empty."""
    messages_per_s: float
    send_ms: float
    """Wall time this process took to send one message (Celery `send_task`)."""
    checks_passed: bool
    """Every message was consumed and acknowledged within the timeout."""
    cpu_ms_per_message: dict[str, float] = field(default_factory=dict)


def measure_floor(client: ClusterClient, count: int, timeout: float) -> FloorFigures:
    """Send `count` stale step messages at once, one Celery message each (not gathered
    as the API gathers first steps: the floor is the cost of one hop), and time the
    workers through them."""
    dispatcher = client.cluster.runtime.dispatcher
    if isinstance(dispatcher, Coalescing):
        dispatcher = dispatcher.inner
    arn = client.account.execution("bench-floor", "missing")
    cpu_before = cpu_snapshot(client)
    started = time.perf_counter()
    for seq in range(count):
        dispatcher.send(Message(arn, "0", seq, Kind.ENTER))
    sent = time.perf_counter() - started
    drained = wait_drained(client, timeout)
    seconds = time.perf_counter() - started
    cpu = cpu_groups(cpu_snapshot(client), cpu_before)
    return FloorFigures(
        messages=count,
        seconds=seconds,
        messages_per_s=count / seconds,
        send_ms=sent * 1000 / count,
        checks_passed=drained,
        cpu_ms_per_message={group: spent * 1000 / count for group, spent in cpu.items()},
    )


def wait_drained(client: ClusterClient, timeout: float) -> bool:
    """Wait until no step message is queued or unacknowledged; False on timeout."""
    deadline = time.monotonic() + timeout
    poller = client.cluster.poller
    while time.monotonic() < deadline:
        pipe = poller.pipeline(transaction=False)
        pipe.llen(STEPS_QUEUE)
        pipe.hlen(UNACKED_KEY)
        if not any(pipe.execute()):
            return True
        time.sleep(0.005)
    return False


def measure_throughput(
    client: ClusterClient,
    workload: Workload,
    repeats: int,
    warmup: int,
    timeout: float,
    budget_seconds: float,
) -> ThroughputFigures:
    """`repeats` sequential runs after `warmup` untimed rounds (fewer if over the budget).

    A warm-up round starts two executions per worker at once, so that every worker
    process (each with its own definition cache and connections) gets some: Redis hands
    queued messages to the worker that has been waiting longest.
    """
    short = warmup_variant(workload)
    for _ in range(warmup):
        arns = [client.start(short) for _ in range(2 * client.cluster.workers)]
        client.wait(arns, timeout)
    runs: list[tuple[Finished, float]] = []
    cpu_before = cpu_snapshot(client)
    deadline = time.monotonic() + budget_seconds
    while len(runs) < repeats and (not runs or time.monotonic() < deadline):
        runs.append(client.run(workload, timeout))
    cpu = cpu_groups(cpu_snapshot(client), cpu_before)
    entered = client.states_entered(runs[-1][0].arn)
    checks = all(done.ok(workload) for done, _ in runs) and entered == workload.transitions
    rates = [workload.work / wall for _, wall in runs]
    units = workload.work * len(runs)
    return ThroughputFigures(
        name=workload.name,
        description=workload.description,
        unit=workload.unit,
        work_per_run=workload.work,
        runs=len(runs),
        median_per_s=statistics.median(rates),
        best_per_s=max(rates),
        median_ms=statistics.median(wall for _, wall in runs) * 1000,
        median_by_dates_per_s=statistics.median(
            workload.work / (done.seconds or math.inf) for done, _ in runs
        ),
        checks_passed=checks,
        cores_used=sum(cpu.values()) / sum(wall for _, wall in runs),
        cpu_ms_per_unit={group: seconds * 1000 / units for group, seconds in cpu.items()},
        samples_per_s=rates,
    )


def warmup_variant(workload: Workload, items: int = WARMUP_ITEMS) -> Workload:
    """The same definition on a short input (a Map's first `items` items) to warm up with.

    A warm-up only has to compile the definition in the workers and open their
    connections; a Map's full input would make it as long as a timed run.
    """
    value = workload.input_value
    if not (isinstance(value, dict) and isinstance(value.get("items"), list)):
        return workload
    return replace(workload, input_value={**value, "items": value["items"][:items]})


def cpu_snapshot(client: ClusterClient) -> dict[str, float]:
    """CPU seconds used so far by every process of the cluster, Redis and this client."""
    return {role: cpu_seconds(pid) for role, pid in client.cluster.cpu_roles().items()}


def cpu_groups(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    """CPU seconds between two snapshots, summed into `worker main`, `worker pool`,
    `scheduler`, `redis` and `client` (this process: starting and polling)."""
    groups: dict[str, float] = {}
    for role, seconds in after.items():
        if role.startswith("worker"):
            group = "worker pool" if ".pool" in role else "worker main"
        else:
            group = role
        groups[group] = groups.get(group, 0.0) + seconds - before.get(role, 0.0)
    return groups


def measure_concurrent(
    client: ClusterClient, workload: Workload, count: int, timeout: float
) -> ConcurrentFigures:
    """Start `count` executions, then wait for all; throughput, latency and Redis bytes."""
    used_before = used_memory(client)
    started = time.perf_counter()
    arns = [client.start(workload) for _ in range(count)]
    start_seconds = time.perf_counter() - started
    client.wait(arns, timeout, interval=0.02)
    time.sleep(SETTLE_SECONDS)
    used_after = used_memory(client)
    done = [client.finished(workload, arn) for arn in arns]
    ended = [item for item in done if item.stop_date is not None]
    latencies = sorted((item.seconds or 0.0) * 1000 for item in ended)
    span = max(item.stop_date or 0.0 for item in ended) - min(item.start_date for item in done)
    return ConcurrentFigures(
        executions=count,
        finished=len(ended),
        start_seconds=start_seconds,
        starts_per_s=count / start_seconds,
        span_seconds=span,
        executions_per_s=len(ended) / span if span > 0 else 0.0,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else math.nan,
        checks_passed=all(item.ok(workload) for item in done),
        redis_bytes_per_execution=(used_after - used_before) / count,
        key_bytes_per_execution=key_bytes(client, arns[:KEY_SAMPLE]),
    )


def measure_rss(client: ClusterClient, workload: Workload, timeout: float) -> RssFigures:
    """Run one large Map and read every cluster process's peak RSS before and after."""
    tree = client.cluster.process_tree()
    before = {role: status_kib(pid, "VmHWM") for role, pid in tree.items()}
    done, seconds = client.run(workload, timeout)
    after = {role: status_kib(pid, "VmHWM") for role, pid in tree.items()}
    workers = [kib for role, kib in after.items() if role.startswith("worker") and kib]
    return RssFigures(
        items=workload.work,
        seconds=seconds,
        items_per_s=workload.work / seconds,
        checks_passed=done.ok(workload),
        peak_kib_before=before,
        peak_kib_after=after,
        worst_mib=max(workers, default=0) / 1024,
    )


def percentile(sorted_values: list[float], percent: float) -> float:
    """Nearest-rank percentile of an ascending list (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def used_memory(client: ClusterClient) -> int:
    """The private Redis's INFO memory `used_memory`, in bytes."""
    return int(client.cluster.poller.info("memory")["used_memory"])


def key_bytes(client: ClusterClient, arns: list[str]) -> float:
    """Mean MEMORY USAGE (all elements sampled) of each execution's record and history."""
    if not arns:
        return math.nan
    poller = client.cluster.poller
    total = 0
    for arn in arns:
        for key in (exec_key(arn), events_key(arn)):
            total += int(poller.memory_usage(key, samples=0) or 0)
    return total / len(arns)
