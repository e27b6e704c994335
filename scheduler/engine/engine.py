"""The engine: applies the interpreter's decisions to durable state.

A step is: load the run a message names (stale seq: do nothing), let the interpreter
decide, record history events, move the run's cursor, and commit all of it at once with
what must happen next (messages, timers, task calls), which the dispatcher then delivers.
States that need no I/O (Pass, Choice, Succeed, Fail, a zero Wait) are applied in the same
step that reached them, each with its own events, up to `inline_budget` per step.
"""

from __future__ import annotations

import json
import random as random_module
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from integrations.resources import ResourceInfo, describe_resource
from scheduler.asl.errors import ErrorName, StateRuntimeError, StatesError, runtime_cause
from scheduler.asl.interpreter import enter, fanout_succeeded, handle_error, task_succeeded
from scheduler.asl.model import AnyState, MapState, ParallelState, StateMachine, TaskState
from scheduler.asl.outcome import (
    Advance,
    Caught,
    Failure,
    FanOut,
    InvokeTask,
    RetryAfter,
    WaitUntil,
)
from scheduler.asl.parse import build_machine, load_definition
from scheduler.asl.scope import Scope
from scheduler.engine import events
from scheduler.engine.clock import Clock, SystemClock
from scheduler.engine.context import context_object
from scheduler.engine.dispatcher import Dispatcher
from scheduler.engine.fanin import child_finished, launch_child, new_fanout
from scheduler.engine.messages import Kind, Message, TaskRequest
from scheduler.engine.records import (
    Event,
    ExecutionRecord,
    ExecutionStatus,
    Run,
    RunStatus,
    StateMachineType,
)
from scheduler.engine.store import StepWrites, Store

ROOT_RUN = "0"


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Engine knobs; every one has a working default."""

    region: str = "us-east-1"
    account: str = "123456789012"
    time_scale: float = 1.0
    """Multiplies every Wait, retry delay and timeout (0.01 makes tests 100x faster)."""
    max_payload_bytes: int = 256 * 1024
    """AWS's limit on inputs, outputs and results."""
    inline_budget: int = 1000
    """States applied in one step before the step yields to other work."""
    unknown_fields_are_errors: bool = True


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


class Engine:
    """Runs executions over a store and a dispatcher."""

    def __init__(
        self,
        store: Store,
        dispatcher: Dispatcher,
        *,
        clock: Clock | None = None,
        settings: EngineSettings | None = None,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.clock = clock or SystemClock()
        self.settings = settings or EngineSettings()
        self.random = random
        self._machines: dict[str, StateMachine] = {}
        self._submachines: dict[tuple[str, tuple[str | int, ...]], StateMachine] = {}
        self._resources: dict[str, ResourceInfo] = {}
        self._uses_context: dict[int, bool] = {}

    # ----- definitions -------------------------------------------------------------------

    def machine(self, definition: str) -> StateMachine:
        """The compiled machine for a definition text (compiled once, then cached)."""
        machine = self._machines.get(definition)
        if machine is None:
            machine = load_definition(
                definition, unknown_fields_are_errors=self.settings.unknown_fields_are_errors
            )
            self._machines[definition] = machine
        return machine

    def _machine_at(self, definition: str, path: tuple[str | int, ...]) -> StateMachine:
        key = (definition, path)
        found = self._submachines.get(key)
        if found is not None:
            return found
        machine = self.machine(definition)
        for i in range(0, len(path), 2):
            state = machine.states[str(path[i])]
            if isinstance(state, ParallelState):
                machine = state.branches[int(path[i + 1])]
            else:
                assert isinstance(state, MapState) and state.processor is not None
                machine = state.processor
        self._submachines[key] = machine
        return machine

    # ----- starting ------------------------------------------------------------------------

    def start_execution(
        self,
        *,
        arn: str,
        name: str,
        state_machine_arn: str,
        definition: str,
        input_value: Any,
        role_arn: str = "",
        type_: StateMachineType = StateMachineType.STANDARD,
    ) -> ExecutionRecord | None:
        """Create and start an execution; None when one with this ARN already exists."""
        machine = self.machine(definition)
        now = self.clock.now()
        record = ExecutionRecord(
            arn=arn,
            name=name,
            state_machine_arn=state_machine_arn,
            definition=definition,
            input=input_value,
            start_date=now,
            type=type_,
            role_arn=role_arn,
        )
        step = Step(self.store, record, now)
        step.writes.events.append(
            Event(1, 0, now, "ExecutionStarted", {"input": input_value, "roleArn": role_arn})
        )
        root = Run(id=ROOT_RUN, machine=(), state=machine.start_at, input=input_value)
        step.save(root)
        step.writes.messages.append(Message(arn, ROOT_RUN, 0, Kind.ENTER))
        if machine.timeout_seconds:
            due = now + machine.timeout_seconds * self.settings.time_scale
            step.writes.timers.append((due, Message(arn, ROOT_RUN, -1, Kind.EXEC_TIMEOUT)))
        if not self.store.create_execution(step.writes):
            return None
        self._deliver(step.writes)
        return record

    # ----- steps ---------------------------------------------------------------------------

    def handle(self, message: Message) -> None:
        """Run one step for `message`; a stale or unknown message changes nothing."""
        record = self.store.get_execution(message.execution)
        if record is None or record.status != ExecutionStatus.RUNNING:
            return
        step = Step(self.store, record, self.clock.now())
        if message.kind == Kind.EXEC_TIMEOUT:
            self._end_execution(
                step,
                ExecutionStatus.TIMED_OUT,
                "ExecutionTimedOut",
                error=ErrorName.TIMEOUT,
                cause="Execution timed out.",
            )
            self._commit(step)
            return
        run = self.store.load_run(message.execution, message.run)
        if run is None or run.seq != message.seq:
            return
        step.writes.run_id, step.writes.expected_seq = run.id, run.seq
        machine = self._machine_at(record.definition, run.machine)
        handler = _HANDLERS[message.kind]
        handler(self, step, machine, run, message)
        self._commit(step)

    def _commit(self, step: Step) -> None:
        if self.store.commit(step.writes):
            self._deliver(step.writes)

    def _deliver(self, writes: StepWrites) -> None:
        for message in writes.messages:
            self.dispatcher.send(message)
        for due, message in writes.timers:
            self.dispatcher.send_at(due, message)
        for request in writes.tasks:
            self.dispatcher.invoke(request)

    def _on_enter(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        self._run_states(step, machine, run, entering=True)

    def _on_retry(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        self._run_states(step, machine, run, entering=False)

    def _on_wake(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        pending = run.pending or {}
        run.pending = None
        state = machine.states[run.state]
        if self._leave(step, run, state, Advance(pending.get("output"), pending.get("next"))):
            self._run_states(step, machine, run, entering=True)

    def _on_task_done(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        state = machine.states[run.state]
        assert isinstance(state, TaskState)
        info = self._resource(state.resource)
        data = message.data or {}
        if "error" in data:
            step.event(run, *events.task_failed(info, data["error"], data.get("cause")))
            self._after_error(
                step, machine, run, state, StatesError(data["error"], data.get("cause"))
            )
            return
        result = data.get("result")
        if self._too_large(result):
            # AWS names a Lambda ARN by its ARN and a service integration by its service.
            named = info.resource_type if not info.is_lambda_function else info.resource
            error = _data_limit(info.resource if info.resource_type == "local" else named)
            step.event(run, *events.task_failed(info, error.error, error.cause))
            self._after_error(step, machine, run, state, error)
            return
        step.event(run, *events.task_succeeded(info, result))
        try:
            outcome = task_succeeded(state, self._scope(step, run, state), result)
        except StatesError as error:
            self._after_error(step, machine, run, state, error)
            return
        if self._leave(step, run, state, outcome):
            self._run_states(step, machine, run, entering=True)

    def _on_timeout(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        state = machine.states[run.state]
        assert isinstance(state, TaskState)
        info = self._resource(state.resource)
        error = StatesError(ErrorName.TIMEOUT, None)
        step.event(run, *events.task_timed_out(info, error.error, error.cause))
        self._after_error(step, machine, run, state, error)

    def _on_join(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        state = machine.states[run.state]
        assert isinstance(state, ParallelState | MapState)
        fanout = self.store.load_fanout(step.record.arn, run.id)
        step.writes.drop_fanouts.append(run.id)
        step.writes.drop_children_of.append(run.id)
        prefix = "ParallelState" if isinstance(state, ParallelState) else "MapState"
        if fanout is not None and fanout.map_run_arn is not None:
            step.event(run, "MapRunFailed" if fanout.failure else "MapRunSucceeded")
        if fanout is None or fanout.failure is not None:
            error, cause = (
                fanout.failure if fanout and fanout.failure else (ErrorName.RUNTIME, None)
            )
            self._after_error(
                step, machine, run, state, StatesError(error, cause), failed_event=prefix + "Failed"
            )
            return
        step.event(run, prefix + "Succeeded")
        try:
            outcome = fanout_succeeded(state, self._scope(step, run, state), fanout.results)
        except StatesError as error:
            self._after_error(step, machine, run, state, error)
            return
        if self._leave(step, run, state, outcome):
            self._run_states(step, machine, run, entering=True)

    # ----- the state loop ------------------------------------------------------------------

    def _run_states(self, step: Step, machine: StateMachine, run: Run, *, entering: bool) -> None:
        """Enter states from the run's cursor until one needs to wait (or the run ends)."""
        for _ in range(self.settings.inline_budget):
            state = machine.states[run.state]
            if entering:
                self._entered(step, run, state)
            entering = True
            try:
                outcome = enter(state, self._scope(step, run, state), step.now)
            except StatesError as error:
                if not self._state_error(step, machine, run, state, error):
                    return
                continue
            if isinstance(outcome, Advance):
                if not self._leave(step, run, state, outcome):
                    return
            elif isinstance(outcome, WaitUntil):
                if outcome.due > step.now:
                    self._sleep(step, run, outcome)
                    return
                if not self._leave(step, run, state, Advance(outcome.output, outcome.next)):
                    return
            elif isinstance(outcome, Failure):
                self._fail_run(step, run, outcome.error, outcome.cause)
                return
            elif isinstance(outcome, InvokeTask):
                assert isinstance(state, TaskState)
                self._invoke(step, run, state, outcome)
                return
            else:
                assert isinstance(state, ParallelState | MapState)
                self._fan_out(step, run, state, outcome)
                return
        run.seq += 1
        run.status = RunStatus.READY
        step.save(run)
        step.writes.messages.append(Message(step.record.arn, run.id, run.seq, Kind.ENTER))

    def _entered(self, step: Step, run: Run, state: AnyState) -> None:
        step.record.transitions += 1
        step.writes.execution_changed = True
        run.entered_time = step.now
        run.attempts = []
        run.retry_count = 0
        run.entered_event_id = step.event(
            run, events.entered(state.type), {"name": state.name, "input": run.input}
        )

    def _leave(self, step: Step, run: Run, state: AnyState, outcome: Advance) -> bool:
        """Exit `state` with the outcome's output; True when the run goes on to `next`."""
        if self._too_large(outcome.output):
            error = _data_limit(state.name)
            self._fail_run(step, run, error.error, error.cause)
            return False
        step.event(run, events.exited(state.type), {"name": state.name, "output": outcome.output})
        if outcome.next is None:
            self._finish_run(step, run, outcome.output)
            return False
        run.state = outcome.next
        run.input = outcome.output
        return True

    def _after_error(
        self,
        step: Step,
        machine: StateMachine,
        run: Run,
        state: AnyState,
        error: StatesError,
        failed_event: str | None = None,
    ) -> None:
        """Handle a state's error outside the state loop, resuming the loop if caught."""
        if self._state_error(step, machine, run, state, error, failed_event):
            self._run_states(step, machine, run, entering=True)

    def _state_error(
        self,
        step: Step,
        machine: StateMachine,
        run: Run,
        state: AnyState,
        error: StatesError,
        failed_event: str | None = None,
    ) -> bool:
        """Retry, catch or fail after `error`; True when the run continues at once (caught)."""
        if isinstance(error, StateRuntimeError) and error.cause is not None:
            error = StatesError(
                error.error, runtime_cause(state.name, run.entered_event_id, error.cause)
            )
        decision = handle_error(
            state, self._scope(step, run, state), error, run.attempts, self.random
        )
        if isinstance(decision, RetryAfter):
            while len(run.attempts) <= decision.retrier:
                run.attempts.append(0)
            run.attempts[decision.retrier] += 1
            run.retry_count += 1
            self._schedule(step, run, decision.delay, Kind.RETRY, RunStatus.TIMER)
            return False
        if failed_event is not None:
            step.event(run, failed_event)
        if isinstance(decision, Caught):
            return self._leave(step, run, state, Advance(decision.output, decision.next))
        self._fail_run(step, run, decision.error, decision.cause)
        return False

    # ----- waiting ---------------------------------------------------------------------------

    def _schedule(self, step: Step, run: Run, delay: float, kind: Kind, status: RunStatus) -> None:
        run.seq += 1
        run.status = status
        step.save(run)
        due = step.now + max(0.0, delay) * self.settings.time_scale
        message = Message(step.record.arn, run.id, run.seq, kind)
        if due <= step.now:
            step.writes.messages.append(message)
        else:
            step.writes.timers.append((due, message))

    def _sleep(self, step: Step, run: Run, outcome: WaitUntil) -> None:
        run.pending = {"output": outcome.output, "next": outcome.next}
        self._schedule(step, run, outcome.due - step.now, Kind.WAKE, RunStatus.TIMER)

    def _invoke(self, step: Step, run: Run, state: TaskState, outcome: InvokeTask) -> None:
        info = self._resource(state.resource)
        step.event(
            run,
            *events.task_scheduled(
                info, outcome.payload, outcome.timeout_seconds, self.settings.region
            ),
        )
        step.event(run, *events.task_started(info))
        run.seq += 1
        run.status = RunStatus.TASK
        step.save(run)
        arn = step.record.arn
        step.writes.tasks.append(
            TaskRequest(
                arn,
                run.id,
                run.seq,
                state.resource,
                outcome.payload,
                state.name,
                outcome.timeout_seconds,
            )
        )
        if outcome.timeout_seconds is not None:
            due = step.now + outcome.timeout_seconds * self.settings.time_scale
            step.writes.timers.append((due, Message(arn, run.id, run.seq, Kind.TIMEOUT)))

    def _fan_out(
        self, step: Step, run: Run, state: ParallelState | MapState, outcome: FanOut
    ) -> None:
        if isinstance(state, ParallelState):
            started = step.event(run, "ParallelStateStarted")
        else:
            started = step.event(run, "MapStateStarted", {"length": len(outcome.inputs)})
        fanout = new_fanout(run, state, outcome, started)
        if isinstance(state, MapState) and state.distributed:
            fanout.map_run_arn = self._map_run_arn(step.record, state)
            step.event(run, "MapRunStarted", {"mapRunArn": fanout.map_run_arn})
        run.seq += 1
        run.status = RunStatus.FANOUT
        step.save(run)
        step.writes.fanouts[run.id] = fanout
        if fanout.total == 0:
            step.writes.messages.append(Message(step.record.arn, run.id, run.seq, Kind.JOIN))
            return
        first = (
            fanout.total
            if fanout.max_concurrency <= 0
            else min(fanout.total, fanout.max_concurrency)
        )
        for _ in range(first):
            self._launch(step, run, state, fanout)

    def _launch(
        self, step: Step, parent: Run, state: ParallelState | MapState, fanout: Any
    ) -> None:
        child = launch_child(parent, fanout)
        machine = self._machine_at(step.record.definition, child.machine)
        child.state = machine.start_at
        child.last_event_id = fanout.started_event_id
        if isinstance(state, MapState) and not child.quiet:
            step.event(child, "MapIterationStarted", {"index": child.index, "name": state.name})
        step.save(child)
        step.writes.messages.append(Message(step.record.arn, child.id, 0, Kind.ENTER))

    # ----- ending runs ---------------------------------------------------------------------

    def _finish_run(self, step: Step, run: Run, output: Any) -> None:
        if run.parent is None:
            self._end_execution(
                step, ExecutionStatus.SUCCEEDED, "ExecutionSucceeded", output=output
            )
            return
        self._report_to_parent(step, run, output=output)

    def _fail_run(self, step: Step, run: Run, error: str, cause: str | None) -> None:
        if run.parent is None:
            self._end_execution(
                step, ExecutionStatus.FAILED, "ExecutionFailed", error=error, cause=cause
            )
            return
        self._report_to_parent(step, run, error=(error, cause))

    def _report_to_parent(
        self, step: Step, run: Run, output: Any = None, error: tuple[str, str | None] | None = None
    ) -> None:
        run.status = RunStatus.DONE
        run.seq += 1
        step.save(run)
        assert run.parent is not None
        parent = self.store.load_run(step.record.arn, run.parent)
        fanout = self.store.load_fanout(step.record.arn, run.parent)
        if parent is None or fanout is None or fanout.failure is not None:
            return
        parent_machine = self._machine_at(step.record.definition, parent.machine)
        state = parent_machine.states[parent.state]
        assert isinstance(state, ParallelState | MapState)
        if isinstance(state, MapState) and not run.quiet:
            kind = "MapIterationFailed" if error else "MapIterationSucceeded"
            step.event(run, kind, {"index": run.index, "name": state.name})
        decision = child_finished(fanout, run.index, output, error)
        step.writes.fanouts[parent.id] = fanout
        if decision.launch_next:
            self._launch(step, parent, state, fanout)
        if decision.join:
            parent.last_event_id = run.last_event_id
            step.save(parent)
            step.writes.messages.append(Message(step.record.arn, parent.id, parent.seq, Kind.JOIN))

    def _end_execution(
        self,
        step: Step,
        status: ExecutionStatus,
        event_type: str,
        *,
        output: Any = None,
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        record = step.record
        root = self.store.load_run(record.arn, ROOT_RUN)
        details: dict[str, Any]
        if status == ExecutionStatus.SUCCEEDED:
            details = {"output": output}
        else:
            details = events.error_details(error or "", cause)
        step.writes.events.append(
            Event(
                self.store.next_event_ids(record.arn, 1),
                _last_event_id(step, root),
                step.now,
                event_type,
                details,
            )
        )
        record.status = status
        record.stop_date = step.now
        record.output = output
        record.error = error
        record.cause = cause
        step.writes.execution_changed = True
        step.writes.drop_all_runs = True

    def stop_execution(
        self, arn: str, error: str | None = None, cause: str | None = None
    ) -> ExecutionRecord | None:
        """Abort a running execution (StopExecution); returns its record."""
        record = self.store.get_execution(arn)
        if record is None or record.status != ExecutionStatus.RUNNING:
            return record
        step = Step(self.store, record, self.clock.now())
        details = events.error_details(error, cause) if error is not None else {}
        if error is None and cause is not None:
            details = {"cause": cause}
        step.writes.events.append(
            Event(
                self.store.next_event_ids(arn, 1),
                _last_event_id(step, self.store.load_run(arn, ROOT_RUN)),
                step.now,
                "ExecutionAborted",
                details,
            )
        )
        record.status = ExecutionStatus.ABORTED
        record.stop_date = step.now
        record.error, record.cause = error, cause
        step.writes.drop_all_runs = True
        self._commit(step)
        return record

    # ----- helpers -------------------------------------------------------------------------

    def _scope(self, step: Step, run: Run, state: AnyState) -> Scope:
        uses = self._uses_context.get(id(state))
        if uses is None:
            uses = "$$" in json.dumps(state.raw)
            self._uses_context[id(state)] = uses
        if not uses:
            return Scope(run.input)
        return Scope(run.input, context_object(step.record, run, state))

    def _map_run_arn(self, record: ExecutionRecord, state: MapState) -> str:
        """`arn:...:mapRun:MACHINE/LABEL:ID`, as AWS names a Distributed Map's run."""
        prefix, _, machine = record.state_machine_arn.rpartition(":stateMachine:")
        label = state.label or state.name
        return f"{prefix}:mapRun:{machine}/{label}:{uuid.uuid4()}"

    def _resource(self, resource: str) -> ResourceInfo:
        info = self._resources.get(resource)
        if info is None:
            info = self._resources[resource] = describe_resource(resource)
        return info

    def _too_large(self, value: Any) -> bool:
        if value is None or isinstance(value, bool | int | float):
            return False
        limit = self.settings.max_payload_bytes
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return len(text) > limit // 4 and len(text.encode("utf-8")) > limit


def _data_limit(name: str) -> StatesError:
    return StatesError(
        ErrorName.DATA_LIMIT_EXCEEDED,
        f"The state/task '{name}' returned a result with a size exceeding the maximum number "
        "of bytes service limit.",
    )


def _last_event_id(step: Step, root: Run | None) -> int:
    if step.writes.events:
        return step.writes.events[-1].id
    return root.last_event_id if root is not None else 0


_HANDLERS: dict[Kind, Callable[[Engine, Step, StateMachine, Run, Message], None]] = {
    Kind.ENTER: Engine._on_enter,
    Kind.RETRY: Engine._on_retry,
    Kind.WAKE: Engine._on_wake,
    Kind.TASK_DONE: Engine._on_task_done,
    Kind.TIMEOUT: Engine._on_timeout,
    Kind.JOIN: Engine._on_join,
}

__all__ = ["Engine", "EngineSettings", "ROOT_RUN", "build_machine"]
