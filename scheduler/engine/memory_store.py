"""The embedded store: everything in this process's memory, guarded by one lock.

The zero-setup default. Records are kept as live objects; a step's writes replace them
wholesale, so the engine must treat loaded records as its own until it commits.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import replace
from typing import Any

from scheduler.engine.fanin import apply_report
from scheduler.engine.messages import Message
from scheduler.engine.records import Event, ExecutionRecord, Fanout, Run
from scheduler.engine.step import resolve, resolve_ids
from scheduler.engine.store import StepWrites, apply_end


class MemoryStore:
    """In-memory implementation of the `Store` contract."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._executions: dict[str, ExecutionRecord] = {}
        self._runs: dict[str, dict[str, Run]] = {}
        self._fanouts: dict[str, dict[str, Fanout]] = {}
        self._events: dict[str, list[Event]] = {}
        self._next_event: dict[str, int] = {}
        self._by_machine: dict[str, list[str]] = {}
        self._activity_tasks: defaultdict[str, deque[str]] = defaultdict(deque)
        self._activity_ready = threading.Condition(self._lock)

    def create_execution(self, writes: StepWrites) -> bool:
        arn = writes.execution.arn
        with self._lock:
            if arn in self._executions:
                return False
            self._executions[arn] = writes.execution
            self._by_machine.setdefault(writes.execution.state_machine_arn, []).append(arn)
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
                self._by_machine.get(state_machine_arn, [])
                if state_machine_arn is not None
                else list(self._executions)
            )
            found = [self._executions[a] for a in reversed(arns)]
        if status is not None:
            found = [e for e in found if e.status == status]
        return found[offset : None if limit is None else offset + limit]

    def load_step(self, arn: str, run_id: str) -> tuple[ExecutionRecord | None, Run | None]:
        return self._executions.get(arn), self.load_run(arn, run_id)

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
            arn = writes.execution.arn
            if writes.run_id is not None:
                current = self._runs.get(arn, {}).get(writes.run_id)
                if current is None:
                    return None
            if writes.redrive:
                self._executions[arn] = writes.execution
            return self._apply(writes)

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
        runs = self._runs[arn]
        fanouts = self._fanouts[arn]
        for parent in writes.drop_children_of:
            self._drop_descendants(runs, fanouts, parent)
        for run_id in writes.drop_fanouts:
            fanouts.pop(run_id, None)
        if writes.drop_all_runs:
            runs.clear()
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
        report = replace(
            report,
            last_state_event=resolve(report.last_state_event, base),
            last_event=resolve(report.last_event, base),
        )
        return apply_report(fanout, report, arn)

    @staticmethod
    def _drop_descendants(runs: dict[str, Run], fanouts: dict[str, Fanout], parent: str) -> None:
        prefix = parent + "."
        for run_id in [r for r in runs if r.startswith(prefix)]:
            del runs[run_id]
            fanouts.pop(run_id, None)

    def history(self, execution_arn: str) -> list[Event]:
        with self._lock:
            return list(self._events.get(execution_arn, ()))

    def definition_of(self, execution_arn: str) -> Any:
        record = self._executions.get(execution_arn)
        return None if record is None else record.definition
