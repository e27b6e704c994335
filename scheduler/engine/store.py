"""The store contract: where executions, runs, fan-outs and history live.

Two implementations: `MemoryStore` (embedded, in-process) and a Redis store. The engine
reads through the methods below and writes a whole step at once with `commit`, so a store
can make each step atomic (the Redis store does it in one Lua call, compare-and-set on the
run's seq).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from scheduler.engine.messages import Message, TaskRequest
from scheduler.engine.records import (
    Event,
    ExecutionRecord,
    ExecutionStatus,
    Fanout,
    MapRun,
    Run,
)

if TYPE_CHECKING:
    from scheduler.engine.map_runs import MapRunLimits


@dataclass(slots=True)
class ChildReport:
    """A child run ended: its result (or error) for the parent's fan-out.

    Its event ids are provisional until the commit resolves them (`step.resolve_ids`),
    as those of the step's events and runs are.
    """

    parent: str
    index: int
    output: Any = None
    error: tuple[str, str | None] | None = None
    last_state_event: int = 0
    """The child's last state event (before MapIterationSucceeded/Failed): what AWS
    chains the next sibling's MapIterationStarted, and a failure's *StateFailed, to."""
    last_event: int = 0
    """The child's very last event: what a successful fan-out's *StateSucceeded follows."""


@dataclass(frozen=True, slots=True)
class ExecutionEnd:
    """How the execution ended, written once."""

    status: str
    stop_date: float
    output: Any = None
    error: str | None = None
    cause: str | None = None


def apply_end(record: ExecutionRecord, end: ExecutionEnd) -> None:
    """Write an execution's end into its record."""
    record.status = ExecutionStatus(end.status)
    record.stop_date = end.stop_date
    record.output = end.output
    record.error = end.error
    record.cause = end.cause


@dataclass(slots=True)
class StepWrites:
    """Everything one engine step changes, applied together by `Store.commit`."""

    execution: ExecutionRecord
    expected_seq: int | None = None
    run_id: str | None = None
    events: list[Event] = field(default_factory=list)
    runs: dict[str, Run] = field(default_factory=dict)
    fanouts: dict[str, Fanout] = field(default_factory=dict)
    drop_fanouts: list[str] = field(default_factory=list)
    drop_children_of: list[str] = field(default_factory=list)
    drop_all_runs: bool = False
    keep_root: bool = False
    """With drop_all_runs: keep the top-level run (written in `runs`) for a redrive."""
    redrive: bool = False
    """The execution starts running again (RedriveExecution)."""
    consumed: str | None = None
    transitions: int = 0
    end: ExecutionEnd | None = None
    child_report: ChildReport | None = None
    messages: list[Message] = field(default_factory=list)
    timers: list[tuple[float, Message]] = field(default_factory=list)
    tasks: list[TaskRequest] = field(default_factory=list)
    activity_tasks: list[tuple[str, str]] = field(default_factory=list)
    """(activity ARN, task JSON) to queue for GetActivityTask."""
    map_runs: list[MapRun] = field(default_factory=list)
    """Map runs the step starts (a Distributed Map's fan-out)."""
    now: float = 0.0
    """When the step runs: a map run whose fan-out the step drops stops then."""
    forget_after: float | None = None
    """An Express execution kept without history: not listed, and once it ends, nothing
    kept but its end, and that for this many seconds."""


class Store(Protocol):
    """Durable state of every execution."""

    def create_execution(self, writes: StepWrites) -> bool:
        """Store a new execution and its first writes; False if the ARN already exists."""

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        """The execution record, or None."""

    def list_executions(
        self,
        state_machine_arn: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[ExecutionRecord]:
        """Executions newest first, optionally of one machine and one status; a page of
        them from `offset` (at most `limit`)."""

    def load_step(self, arn: str, run_id: str) -> tuple[ExecutionRecord | None, Run | None]:
        """The execution and one of its runs (one round trip where it matters)."""

    def load_steps(
        self, arn: str, run_ids: list[str]
    ) -> tuple[ExecutionRecord | None, list[Run | None]]:
        """The execution and a run per id (a batch of steps of one execution)."""

    def load_run(self, execution_arn: str, run_id: str) -> Run | None:
        """A run of a running execution, or None when it ended or never existed."""

    def load_runs(self, execution_arn: str) -> list[Run]:
        """Every run of a running execution (StopExecution looks for `.sync` children)."""

    def load_fanout(self, execution_arn: str, run_id: str) -> Fanout | None:
        """The fan-out a run waits on, or None."""

    def event_id_base(self, execution_arn: str) -> int:
        """The id the next committed event of the execution will get."""

    def commit(self, writes: StepWrites) -> list[Message] | None:
        """Apply a step atomically; None (and nothing applied) if the run's seq moved.

        Returns the messages the store's own bookkeeping produced: the next child to
        launch under MaxConcurrency, and the JOIN to a parent whose children are done.
        """

    def commit_many(self, batch: list[StepWrites]) -> list[list[Message] | None]:
        """`commit` each step of one execution in order, at once where the store can;
        an entry per step: None for a stale one, else what its bookkeeping produced."""

    def forget(self, key: str) -> None:
        """A consumed message had nothing to do (stale): stop tracking it as in flight."""

    def take_activity_task(self, activity_arn: str, timeout: float) -> str | None:
        """The oldest queued task of an activity (JSON), waiting up to `timeout` seconds."""

    def history(self, execution_arn: str) -> list[Event]:
        """Every event of an execution, in id order."""

    def definition_of(self, execution_arn: str) -> Any:
        """The definition text the execution runs (kept with it when the machine changes)."""

    def map_runs_of(self, execution_arn: str) -> list[MapRun]:
        """The execution's map runs, oldest first, with their current counters."""

    def get_map_run(self, arn: str) -> MapRun | None:
        """A map run with its current counters, or None."""

    def update_map_run(self, arn: str, limits: MapRunLimits) -> list[Message] | None:
        """Set new limits on a running map run (atomically with its fan-in); the messages
        that follow (children to launch, a JOIN). None when it is not running."""
