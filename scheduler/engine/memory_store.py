"""The embedded store: everything in this process's memory, guarded by one lock.

The zero-setup default. Records are kept as live objects; a step's writes replace them
wholesale, so the engine must treat loaded records as its own until it commits.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from scheduler.engine.fanin import apply_report
from scheduler.engine.map_runs import MapRunLimits, apply_limits, observe, retire
from scheduler.engine.messages import Message
from scheduler.engine.records import Event, ExecutionRecord, Fanout, MapRun, MapRunStatus, Run
from scheduler.engine.step import resolve_ids
from scheduler.engine.store import StepWrites, apply_end


class MemoryStore:
    """In-memory implementation of the `Store` contract."""

    def __init__(self, keep_finished: int = 0) -> None:
        """`keep_finished`: ended executions kept, the oldest forgotten first (0: all)."""
        self.keep_finished = keep_finished
        self._lock = threading.RLock()
        self._executions: dict[str, ExecutionRecord] = {}
        self._runs: dict[str, dict[str, Run]] = {}
        self._fanouts: dict[str, dict[str, Fanout]] = {}
        self._events: dict[str, list[Event]] = {}
        self._next_event: dict[str, int] = {}
        self._by_machine: dict[str, dict[str, None]] = {}
        """Each machine's execution ARNs in start order (a dict: forgetting one is O(1))."""
        self._finished: dict[str, None] = {}
        """Ended executions, in the order they ended (a redriven one leaves it)."""
        self.forget_listeners: list[Callable[[str], None]] = []
        """Called with the ARN of every execution the store forgets (under its lock: they
        must not call back into the store)."""
        self._activity_tasks: defaultdict[str, deque[str]] = defaultdict(deque)
        self._activity_ready = threading.Condition(self._lock)
        self._map_runs: dict[str, MapRun] = {}
        self._map_runs_of: dict[str, list[str]] = {}
        self._expiring: deque[tuple[float, str]] = deque()
        """(when, ARN) of ended executions whose end is kept only until then."""

    def create_execution(self, writes: StepWrites) -> bool:
        arn = writes.execution.arn
        with self._lock:
            self._purge(writes.now)
            if arn in self._executions:
                return False
            self._executions[arn] = writes.execution
            if writes.forget_after is None:
                machine = writes.execution.state_machine_arn
                self._by_machine.setdefault(machine, {})[arn] = None
            self._runs[arn] = {}
            self._fanouts[arn] = {}
            self._events[arn] = []
            self._next_event[arn] = 1
            self._apply(writes)
            return True

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        return self._executions.get(arn)

    def list_executions(
        self,
        state_machine_arn: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[ExecutionRecord]:
        with self._lock:
            arns = (
                self._by_machine.get(state_machine_arn, {})
                if state_machine_arn is not None
                else list(self._executions)
            )
            found = [self._executions[a] for a in reversed(arns)]
        if status is not None:
            found = [e for e in found if e.status == status]
        return found[offset : None if limit is None else offset + limit]

    def load_step(self, arn: str, run_id: str) -> tuple[ExecutionRecord | None, Run | None]:
        return self._executions.get(arn), self.load_run(arn, run_id)

    def load_steps(
        self, arn: str, run_ids: list[str]
    ) -> tuple[ExecutionRecord | None, list[Run | None]]:
        return self._executions.get(arn), [self.load_run(arn, run_id) for run_id in run_ids]

    def load_run(self, execution_arn: str, run_id: str) -> Run | None:
        runs = self._runs.get(execution_arn)
        return None if runs is None else runs.get(run_id)

    def load_runs(self, execution_arn: str) -> list[Run]:
        with self._lock:
            return list(self._runs.get(execution_arn, {}).values())

    def load_fanout(self, execution_arn: str, run_id: str) -> Fanout | None:
        fanouts = self._fanouts.get(execution_arn)
        return None if fanouts is None else fanouts.get(run_id)

    def event_id_base(self, execution_arn: str) -> int:
        return self._next_event.get(execution_arn, 1)

    def forget(self, key: str) -> None:
        """Nothing is kept in flight here: the in-process dispatcher loses nothing."""

    def take_activity_task(self, activity_arn: str, timeout: float) -> str | None:
        with self._activity_ready:
            queue = self._activity_tasks[activity_arn]
            if not queue:
                self._activity_ready.wait_for(lambda: bool(queue), timeout)
            return queue.popleft() if queue else None

    def commit(self, writes: StepWrites) -> list[Message] | None:
        with self._lock:
            self._purge(writes.now)
            arn = writes.execution.arn
            if writes.run_id is not None:
                current = self._runs.get(arn, {}).get(writes.run_id)
                if current is None:
                    return None
            if writes.redrive:
                self._executions[arn] = writes.execution
                self._finished.pop(arn, None)
            return self._apply(writes)

    def commit_many(self, batch: list[StepWrites]) -> list[list[Message] | None]:
        return [self.commit(writes) for writes in batch]

    def _apply(self, writes: StepWrites) -> list[Message]:
        arn = writes.execution.arn
        record = self._executions[arn]
        base = self._next_event[arn]
        self._next_event[arn] = base + len(writes.events)
        resolve_ids(writes, base)
        self._events[arn].extend(writes.events)
        record.transitions += writes.transitions
        if writes.end is not None:
            apply_end(record, writes.end)
            if writes.forget_after is not None:
                self._events[arn] = []
                self._forget_map_runs(arn)
                self._expiring.append((writes.now + writes.forget_after, arn))
            elif self.keep_finished:
                self._finished[arn] = None
                while len(self._finished) > self.keep_finished:
                    self._forget(next(iter(self._finished)))
        runs = self._runs[arn]
        fanouts = self._fanouts[arn]
        for map_run in writes.map_runs:
            self._map_runs[map_run.arn] = replace(map_run)
            self._map_runs_of.setdefault(arn, []).append(map_run.arn)
        for parent in writes.drop_children_of:
            self._drop_descendants(runs, fanouts, parent, writes.now)
        for run_id in writes.drop_fanouts:
            self._retire(fanouts.pop(run_id, None), writes.now)
        if writes.drop_all_runs:
            runs.clear()
            for dropped in fanouts.values():
                self._retire(dropped, writes.now)
            fanouts.clear()
            if writes.keep_root:
                runs.update(writes.runs)
            return []
        runs.update(writes.runs)
        fanouts.update(writes.fanouts)
        for activity_arn, task in writes.activity_tasks:
            self._activity_tasks[activity_arn].append(task)
        if writes.activity_tasks:
            self._activity_ready.notify_all()
        report = writes.child_report
        if report is None:
            return []
        fanout = fanouts.get(report.parent)
        if fanout is None:
            return []
        return apply_report(fanout, report, arn)  # its ids resolved with the events

    def _drop_descendants(
        self, runs: dict[str, Run], fanouts: dict[str, Fanout], parent: str, now: float
    ) -> None:
        prefix = parent + "."
        for run_id in [r for r in runs if r.startswith(prefix)]:
            del runs[run_id]
            self._retire(fanouts.pop(run_id, None), now)

    def _purge(self, now: float) -> None:
        """Forget the ended executions whose end was kept only until now."""
        while self._expiring and self._expiring[0][0] <= now:
            _, arn = self._expiring.popleft()
            for table in (self._executions, self._runs, self._fanouts, self._events):
                table.pop(arn, None)
            self._next_event.pop(arn, None)
            for listener in self.forget_listeners:
                listener(arn)

    def _forget(self, arn: str) -> None:
        """Drop an ended execution and everything of it (kept past `keep_finished`)."""
        self._finished.pop(arn, None)
        record = self._executions.pop(arn, None)
        for table in (self._runs, self._fanouts, self._events, self._next_event):
            table.pop(arn, None)
        if record is not None:
            self._by_machine.get(record.state_machine_arn, {}).pop(arn, None)
        self._forget_map_runs(arn)
        for listener in self.forget_listeners:
            listener(arn)

    def _forget_map_runs(self, execution_arn: str) -> None:
        for arn in self._map_runs_of.pop(execution_arn, []):
            self._map_runs.pop(arn, None)

    def _retire(self, fanout: Fanout | None, now: float) -> None:
        """A fan-out is dropped: its map run (if it has one) ends with its counters."""
        if fanout is not None and fanout.map_run_arn in self._map_runs:
            retire(self._map_runs[fanout.map_run_arn], fanout, now)

    def _current(self, arn: str) -> MapRun | None:
        """A copy of the map run with the counters of its fan-out while it runs."""
        map_run = self._map_runs.get(arn)
        if map_run is None:
            return None
        copy = replace(map_run)
        fanout = self._fanouts.get(map_run.execution_arn, {}).get(map_run.run_id)
        if copy.status == MapRunStatus.RUNNING and fanout is not None:
            observe(copy, fanout)
        return copy

    def map_runs_of(self, execution_arn: str) -> list[MapRun]:
        with self._lock:
            found = [self._current(a) for a in self._map_runs_of.get(execution_arn, [])]
        return [m for m in found if m is not None]

    def get_map_run(self, arn: str) -> MapRun | None:
        with self._lock:
            return self._current(arn)

    def update_map_run(self, arn: str, limits: MapRunLimits) -> list[Message] | None:
        with self._lock:
            map_run = self._map_runs.get(arn)
            if map_run is None or map_run.status != MapRunStatus.RUNNING:
                return None
            fanout = self._fanouts.get(map_run.execution_arn, {}).get(map_run.run_id)
            if fanout is None or fanout.joined or fanout.map_run_arn != arn:
                return None
            return apply_limits(map_run, fanout, limits, map_run.execution_arn)

    def history(self, execution_arn: str) -> list[Event]:
        with self._lock:
            return list(self._events.get(execution_arn, ()))

    def definition_of(self, execution_arn: str) -> Any:
        record = self._executions.get(execution_arn)
        return None if record is None else record.definition
