"""One engine step's writes, and the helpers that build its history events."""

from __future__ import annotations

from typing import Any

from scheduler.asl.errors import ErrorName, StatesError
from scheduler.engine.records import Event, ExecutionRecord, Run
from scheduler.engine.store import StepWrites, Store


class Step:
    """The writes of one engine step, and the time it runs at."""

    def __init__(self, store: Store, record: ExecutionRecord, now: float) -> None:
        self.store = store
        self.record = record
        self.now = now
        self.writes = StepWrites(execution=record)

    def event(self, run: Run | None, type_: str, details: dict[str, Any] | None = None) -> int:
        """Append a history event chained after the run's last one; returns its id.

        Runs inside a Distributed Map record nothing here: AWS keeps their events in the
        map run's child executions, not in the parent's history.
        """
        if run is not None and run.quiet:
            return run.last_event_id
        event_id = self.store.next_event_ids(self.record.arn, 1)
        previous = run.last_event_id if run is not None else 0
        self.writes.events.append(Event(event_id, previous, self.now, type_, details))
        if run is not None:
            run.last_event_id = event_id
        return event_id

    def save(self, run: Run) -> None:
        self.writes.runs[run.id] = run


def data_limit_error(name: str) -> StatesError:
    """AWS's States.DataLimitExceeded for a state or task result over the limit."""
    return StatesError(
        ErrorName.DATA_LIMIT_EXCEEDED,
        f"The state/task '{name}' returned a result with a size exceeding the maximum number "
        "of bytes service limit.",
    )


def last_event_id(step: Step, root: Run | None) -> int:
    """The id an execution-level event follows: the step's last event, else the root's."""
    if step.writes.events:
        return step.writes.events[-1].id
    return root.last_event_id if root is not None else 0
