"""One engine step's writes, and the history events it adds.

Event ids are given out by the store when the step commits, so that concurrent steps of
one execution (its Parallel branches and Map items, on any worker) never contend for
them. Until then an event's id is provisional: `-(k + 1)` for the step's k-th event.
Provisional ids may sit in run and fan-out records too; `resolve_ids` turns them into
real ones with the base the store picked.
"""

from __future__ import annotations

from typing import Any

from scheduler.asl.errors import ErrorName, StatesError
from scheduler.engine.records import Event, ExecutionRecord, Fanout, Run
from scheduler.engine.store import StepWrites, Store


class Step:
    """The writes of one engine step, and the time it runs at."""

    def __init__(self, store: Store, record: ExecutionRecord, now: float) -> None:
        self.store = store
        self.record = record
        self.now = now
        self.writes = StepWrites(execution=record, now=now)

    def event(
        self,
        run: Run | None,
        type_: str,
        details: dict[str, Any] | None = None,
        previous: int | None = None,
    ) -> int:
        """Append a history event chained after `previous` (default: the run's last).

        Returns its provisional id. Runs inside a Distributed Map record nothing here:
        AWS keeps their events in the map run's child executions.
        """
        if run is not None and run.quiet:
            return run.last_event_id
        event_id = -(len(self.writes.events) + 1)
        if previous is None:
            previous = run.last_event_id if run is not None else 0
        self.writes.events.append(Event(event_id, previous, self.now, type_, details))
        if run is not None:
            run.last_event_id = event_id
        return event_id

    def last_event(self, fallback: int) -> int:
        """The step's latest event, or `fallback` when it has none yet."""
        return self.writes.events[-1].id if self.writes.events else fallback

    def real_id(self, event_id: int) -> int:
        """A real id for `event_id` now (for texts that must quote it, like AWS's
        States.Runtime causes). Exact on the embedded store; on a shared store a
        concurrent commit of the same execution can shift it, which only affects text."""
        if event_id >= 0:
            return event_id
        return self.store.event_id_base(self.record.arn) + (-event_id - 1)

    def save(self, run: Run) -> None:
        self.writes.runs[run.id] = run


def resolve(value: int, base: int) -> int:
    """A provisional id made real, given the first id the store assigned to the step."""
    return value if value >= 0 else base + (-value - 1)


def resolve_ids(writes: StepWrites, base: int) -> None:
    """Replace every provisional id in the step's events, runs, fan-outs and report."""
    for event in writes.events:
        # `resolve` written out: this loop runs for every event of every step, and the
        # calls cost more than the arithmetic.
        if event.id < 0:
            event.id = base + (-event.id - 1)
        if event.previous_id < 0:
            event.previous_id = base + (-event.previous_id - 1)
    for run in writes.runs.values():
        run.last_event_id = resolve(run.last_event_id, base)
        run.entered_event_id = resolve(run.entered_event_id, base)
    fanout: Fanout
    for fanout in writes.fanouts.values():
        fanout.started_event_id = resolve(fanout.started_event_id, base)
    report = writes.child_report
    if report is not None:
        report.last_state_event = resolve(report.last_state_event, base)
        report.last_event = resolve(report.last_event, base)


def data_limit_error(name: str) -> StatesError:
    """AWS's States.DataLimitExceeded for a state or task result over the limit."""
    return StatesError(
        ErrorName.DATA_LIMIT_EXCEEDED,
        f"The state/task '{name}' returned a result with a size exceeding the maximum number "
        "of bytes service limit.",
    )
