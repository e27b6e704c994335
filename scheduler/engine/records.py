"""The engine's durable records: executions, runs (threads of control), fan-outs, events.

Plain dataclasses of JSON-friendly fields, so any store can keep them: the embedded store
holds the objects, the Redis store their JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


def shallow_dict(record: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, values as they are: `asdict` deep-copies every
    payload, which costs more than encoding it."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


class ExecutionStatus(StrEnum):
    """DescribeExecution's `status`."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"


class StateMachineType(StrEnum):
    """A state machine's workflow type."""

    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"


class RunStatus(StrEnum):
    """Where a run's cursor stands between steps."""

    READY = "READY"  # a step is queued to enter `state`
    TASK = "TASK"  # waiting for a task result (or its timeout)
    TIMER = "TIMER"  # waiting for a Wait or a retry delay to elapse
    FANOUT = "FANOUT"  # waiting for its branches or iterations
    DONE = "DONE"


@dataclass(slots=True)
class ExecutionRecord:
    """One execution: what DescribeExecution reports, plus the definition it runs."""

    arn: str
    name: str
    state_machine_arn: str
    definition: str
    input: Any
    start_date: float
    type: StateMachineType = StateMachineType.STANDARD
    status: ExecutionStatus = ExecutionStatus.RUNNING
    stop_date: float | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    role_arn: str = ""
    redrive_count: int = 0
    transitions: int = 0
    parent_token: str | None = None
    """A `.sync` child: the task token of the parent's Task that waits for its end."""


@dataclass(slots=True)
class Run:
    """A thread of control: the execution's top level, a Parallel branch or a Map item.

    `machine` locates its (sub-)machine in the definition: () for the top level, then
    (state name, branch index) per level down. `seq` is the step sequence number every
    message carries; a message whose seq differs is stale and changes nothing.
    """

    id: str
    machine: tuple[str | int, ...]
    state: str
    input: Any
    seq: int = 0
    status: RunStatus = RunStatus.READY
    parent: str | None = None
    index: int = 0
    last_event_id: int = 0
    entered_event_id: int = 0
    entered_time: float = 0.0
    attempts: list[int] = field(default_factory=list)
    retry_count: int = 0
    pending: dict[str, Any] | None = None
    children: int = 0
    quiet: bool = False
    """Inside a Distributed Map: its events belong to the map run, not this history."""
    iteration_of: str | None = None
    """The Map state this run is an iteration of, announced by MapIterationStarted."""
    variables: dict[str, Any] = field(default_factory=dict)
    """Workflow variables in scope (`Assign`); a child run starts with a copy of its
    parent's, and what it assigns never flows back out (AWS's scoping)."""


@dataclass(slots=True)
class Fanout:
    """The branches or iterations a Parallel/Map run is waiting for.

    Every child run exists from the start (ids `PARENT.N` for N from `first_child`); at
    most `launched` of them have been sent their first step (MaxConcurrency). Children
    report here; the store applies reports atomically (`scheduler/engine/fanin.py`).
    """

    kind: str
    total: int
    first_child: int
    launched: int
    parent_seq: int
    results: list[Any]
    max_failures: int = 0
    tolerance_set: bool = False
    finished: int = 0
    failed: int = 0
    failure: tuple[str, str | None] | None = None
    joined: bool = False
    started_event_id: int = 0
    map_run_arn: str | None = None
    max_concurrency: int = 0
    """Children running at once at most (0: no limit); UpdateMapRun may change it."""


class MapRunStatus(StrEnum):
    """DescribeMapRun's `status`."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


@dataclass(slots=True)
class MapRun:
    """A Distributed Map's run: its limits, and its children's counters (read from the
    fan-out while it runs, frozen from it when the fan-out ends)."""

    arn: str
    execution_arn: str
    state_machine_arn: str
    run_id: str
    """The Map state's run, whose fan-out holds the children."""
    start_date: float
    total: int
    max_concurrency: int = 0
    tolerated_failure_count: int = 0
    tolerated_failure_percentage: float = 0.0
    status: MapRunStatus = MapRunStatus.RUNNING
    stop_date: float | None = None
    launched: int = 0
    finished: int = 0
    failed: int = 0


@dataclass(slots=True)
class Event:
    """A history event; `details` holds Python values, formatted for AWS on read."""

    id: int
    previous_id: int
    timestamp: float
    type: str
    details: dict[str, Any] | None = None
