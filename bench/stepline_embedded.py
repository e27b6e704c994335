"""Stepline's side: the workloads on the embedded runtime (in-memory store, inline loop).

Executions are timed around `EmbeddedRuntime.run(definition_text, input)`, which compiles
the definition (cached after the first run), starts the execution and drives it to its
end: the same span as moto's StartExecution-to-finished. Both engines get the definition
as JSON text.

One execution of a small workload takes about a millisecond, too short to time steadily,
so a *sample* is a batch of back-to-back executions sized from the fastest warm-up run to
last at least `min_sample_seconds`; its throughput is the batch's work over the batch's time.
Each execution's history is read after the batch (untimed) to check it.

Every sample gets a fresh runtime (its definition cache warmed by the warm-up runs) and
starts after a `gc.collect()`: the embedded store keeps every finished execution and its
history, and the cyclic GC's full collections grow with that heap, so without this the
samples late in a run would pay for the executions of earlier ones (see
docs/benchmarks.md). The garbage collector stays enabled while timing.
"""

from __future__ import annotations

import gc
import json
import math
import time
from dataclasses import dataclass
from typing import Any

from bench.workloads import NOOP_HANDLER, Workload
from integrations.registry import HandlerRegistry
from scheduler.engine.records import ExecutionRecord
from scheduler.runtime import EmbeddedRuntime

MIN_SAMPLE_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class SteplineRun:
    """One timed sample: a batch of executions and what each of them did."""

    seconds: float
    executions: int
    statuses: list[str]
    states_entered: list[int]
    """`*StateEntered` events in each execution's history."""
    transitions: list[int]
    """Each execution's own `ExecutionRecord.transitions`."""
    outputs: list[Any]


def noop(event: Any, context: Any) -> Any:
    """The no-op Lambda-style handler the Task chain calls."""
    return event


def new_runtime() -> EmbeddedRuntime:
    """An embedded runtime with default settings and the no-op handler registered.

    Default `EngineSettings` are used (not passed explicitly, so this keeps working while
    the settings class moves between engine modules).
    """
    registry = HandlerRegistry()
    registry.register(NOOP_HANDLER, noop)
    return EmbeddedRuntime(registry)


def run_stepline(
    workload: Workload,
    repeats: int,
    warmup: int = 3,
    min_sample_seconds: float = MIN_SAMPLE_SECONDS,
) -> list[SteplineRun]:
    """`repeats` timed samples of `workload`, each on a fresh runtime after `warmup` runs."""
    definition = json.dumps(workload.definition)
    batch = 0
    samples = []
    for _ in range(repeats):
        runtime = new_runtime()
        try:
            fastest = min(
                _run_batch(runtime, definition, workload.input_value, 1).seconds
                for _ in range(max(1, warmup))
            )
            batch = batch or max(1, math.ceil(min_sample_seconds / max(fastest, 1e-9)))
            gc.collect()
            samples.append(_run_batch(runtime, definition, workload.input_value, batch))
        finally:
            runtime.close()
    return samples


def _run_batch(
    runtime: EmbeddedRuntime, definition: str, input_value: Any, count: int
) -> SteplineRun:
    """Time `count` executions back to back, then read their histories (untimed)."""
    started = time.perf_counter()
    records = [runtime.run(definition, input_value) for _ in range(count)]
    seconds = time.perf_counter() - started
    return SteplineRun(
        seconds=seconds,
        executions=count,
        statuses=[str(record.status) for record in records],
        states_entered=[_states_entered(runtime, record) for record in records],
        transitions=[record.transitions for record in records],
        outputs=[record.output for record in records],
    )


def _states_entered(runtime: EmbeddedRuntime, record: ExecutionRecord) -> int:
    """Count `*StateEntered` events in the execution's history."""
    return sum(1 for event in runtime.history(record) if event["type"].endswith("StateEntered"))
