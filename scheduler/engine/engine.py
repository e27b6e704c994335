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
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from scheduler.asl.errors import (
    ErrorName,
    QueryEvaluationError,
    StateRuntimeError,
    StatesError,
    SteplineError,
    runtime_cause,
)
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
from scheduler.asl.scope import Scope
from scheduler.engine import events, lifecycle, map_io, map_runs, nested
from scheduler.engine.children import announce_iteration, report_to_parent, start_children
from scheduler.engine.clock import Clock, SystemClock
from scheduler.engine.context import context_object
from scheduler.engine.dispatcher import Dispatcher
from scheduler.engine.machines import MachineCache
from scheduler.engine.messages import Kind, Message, TaskRequest, key_of
from scheduler.engine.records import (
    ExecutionRecord,
    ExecutionStatus,
    Run,
    RunStatus,
    StateMachineType,
)
from scheduler.engine.settings import EXPRESS_RESULT_SECONDS, EngineSettings
from scheduler.engine.step import Step, data_limit_error
from scheduler.engine.store import ExecutionEnd, StepWrites, Store, apply_end
from scheduler.engine.tokens import base_resource, is_callback, make_token

ROOT_RUN = "0"

__all__ = ["ROOT_RUN", "Engine", "EngineSettings", "InvalidExecutionInput"]


class InvalidExecutionInput(SteplineError):
    """An execution input that cannot be accepted (AWS: InvalidExecutionInput)."""


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
        self.machines = MachineCache(self.settings.unknown_fields_are_errors)
        self.observers: list[Callable[[StepWrites], None]] = []
        # What `json.dumps(value, separators=(",", ":"), ensure_ascii=False)` builds on
        # every call; made once, as the output size check runs for every state.
        self._compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

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
        parent_token: str | None = None,
    ) -> ExecutionRecord | None:
        """Create and start an execution; None when one with this ARN already exists.
        `parent_token`: a `.sync` child's parent Task, resumed when the child ends.

        Raises DefinitionError for an invalid definition and InvalidExecutionInput for an
        input over the payload limit; nothing is stored in either case.
        """
        machine = self.machines.machine(definition)
        size = len(json.dumps(input_value, separators=(",", ":"), ensure_ascii=False).encode())
        if size > self.settings.max_payload_bytes:
            raise InvalidExecutionInput(
                f"execution input is {size} bytes, over the "
                f"{self.settings.max_payload_bytes}-byte payload limit"
            )
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
            parent_token=parent_token,
        )
        step = Step(self.store, record, now)
        step.writes.forget_after = self.forget_after(record)
        step.event(None, "ExecutionStarted", {"input": input_value, "roleArn": role_arn})
        if type_ == StateMachineType.EXPRESS and self.settings.express_in_one_step:
            step.writes.events.clear()  # the express run records its own history
            step.writes.messages.append(Message(arn, ROOT_RUN, 0, Kind.EXPRESS))
            if not self.store.create_execution(step.writes):
                return None
            self._deliver(step.writes)
            return record
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

    def handle(self, message: Message, calls: list[TaskRequest] | None = None) -> None:
        """Run one step for `message`; a stale or unknown message changes nothing. With
        `calls`, the task calls the step makes are put there for the caller to make
        (already committed as in flight) instead of being dispatched."""
        record, run = self.store.load_step(message.execution, message.run)
        step = self._step(message, record, run)
        if step is not None:
            self._committed(step, self.store.commit(step.writes), calls)

    def handle_batch(self, messages: list[Message]) -> None:
        """Run the steps of several messages: those of one execution (a fan-out's
        children, sent together) with one load and one commit, each step keeping its own
        compare-and-set, so a stale one changes nothing and the others still apply. An
        unexpected error in one step is raised after the others committed (its message
        stays in flight for the sweep). The task calls the steps make, whatever their
        executions, go out together."""
        groups: dict[str, list[Message]] = {}
        for message in messages:
            groups.setdefault(message.execution, []).append(message)
        errors: list[Exception] = []
        calls: list[TaskRequest] = []
        for execution, group in groups.items():
            try:
                if len(group) == 1:
                    self.handle(group[0], calls)
                else:
                    errors.extend(self._handle_group(execution, group, calls))
            except Exception as exc:  # noqa: BLE001 - the other executions still run
                errors.append(exc)
        if calls:
            self.dispatcher.invoke_many(calls)
        if errors:
            raise errors[0]

    def _handle_group(
        self, execution: str, messages: list[Message], calls: list[TaskRequest]
    ) -> list[Exception]:
        """Steps of one execution: one load, one commit; the errors of steps that raised.
        Their task calls are added to `calls`."""
        record, runs = self.store.load_steps(execution, [m.run for m in messages])
        steps: list[Step] = []
        errors: list[Exception] = []
        for message, run in zip(messages, runs, strict=True):
            try:
                # Each step its own copy: ending the execution must not leak into the next.
                step = self._step(message, None if record is None else replace(record), run)
            except Exception as exc:  # noqa: BLE001 - the other steps still apply
                errors.append(exc)
                continue
            if step is not None:
                steps.append(step)
        produced = self.store.commit_many([step.writes for step in steps])
        for step, messages_out in zip(steps, produced, strict=True):
            self._committed(step, messages_out, calls)
        return errors

    def _step(
        self, message: Message, record: ExecutionRecord | None, run: Run | None
    ) -> Step | None:
        """Decide the step `message` asks for; None when it is stale (then forgotten)."""
        if record is None or record.status != ExecutionStatus.RUNNING:
            self.store.forget(key_of(message))
            return None
        step = Step(self.store, record, self.clock.now())
        step.writes.consumed = key_of(message)
        if message.kind == Kind.EXEC_TIMEOUT:
            self._end_execution(
                step,
                ExecutionStatus.TIMED_OUT,
                "ExecutionTimedOut",
                error=ErrorName.TIMEOUT,
                cause="Execution timed out.",
                root=run,
            )
            return step
        if run is None or run.seq != message.seq:
            self.store.forget(key_of(message))
            return None
        step.writes.run_id, step.writes.expected_seq = run.id, run.seq
        machine = self.machines.machine_at(record.definition, run.machine)
        handler = _HANDLERS[message.kind]
        handler(self, step, machine, run, message)
        return step

    def handle_here(self, message: Message) -> None:
        """Apply a step now in this thread when the store takes concurrent steps (Redis);
        on the embedded store, queue it behind everything already sent (FIFO)."""
        if getattr(self.store, "concurrent_steps", False):
            self.handle(message)
        else:
            self.dispatcher.send(message)

    def add_observer(self, observer: Callable[[StepWrites], None]) -> None:
        """Call `observer(writes)` after every step that commits (history, metrics, logs,
        waiting for ends: `writes.end` is set when the step ended the execution)."""
        self.observers.append(observer)

    def _commit(self, step: Step) -> None:
        self._committed(step, self.store.commit(step.writes))

    def _committed(
        self, step: Step, produced: list[Message] | None, calls: list[TaskRequest] | None = None
    ) -> None:
        """After a commit: observers, then what the step and the store's fan-in send. With
        `calls`, task calls are collected there for the caller to send together."""
        if produced is None:
            if step.writes.consumed:
                self.store.forget(step.writes.consumed)
            return
        for observer in self.observers:
            observer(step.writes)
        self._deliver(step.writes, calls)
        if step.writes.end is not None:
            resume = nested.parent_message(step.record)
            if resume is not None:
                self.dispatcher.send(resume)
        if produced:
            self.dispatcher.send_many(produced)

    def _deliver(self, writes: StepWrites, calls: list[TaskRequest] | None = None) -> None:
        if writes.messages:
            self.dispatcher.send_many(writes.messages)
        for due, message in writes.timers:
            self.dispatcher.send_at(due, message)
        if calls is not None:
            calls.extend(writes.tasks)
        else:
            for request in writes.tasks:
                self.dispatcher.invoke(request)

    def _on_enter(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        if message.seq == 0 and run.parent is not None:
            announce_iteration(step, run, (message.data or {}).get("after"))
        self._run_states(step, machine, run, entering=True)

    def _on_retry(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        self._run_states(step, machine, run, entering=False)

    def _on_wake(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        pending = run.pending or {}
        run.pending = None
        state = machine.states[run.state]
        resumed = Advance(pending.get("output"), pending.get("next"), pending.get("assigned"))
        if self._leave(step, run, state, resumed):
            self._run_states(step, machine, run, entering=True)

    def _on_task_done(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        state = machine.states[run.state]
        if isinstance(state, MapState):  # its ItemReader's or ResultWriter's call
            self._on_map_call_done(step, machine, run, state, message.data or {})
            return
        assert isinstance(state, TaskState)
        info = self.machines.resource(state.resource)
        data = message.data or {}
        if data.get("submitted") and "error" not in data:
            # A `.waitForTaskToken` call went out (the task ends with its token), or a
            # `.sync` child started (the task ends with the child).
            result = data.get("result")
            step.event(run, *events.task_submitted(info, result))
            run.pending = {**(run.pending or {}), "submitted": True}
            if nested.waits_for_child(state.resource) and isinstance(result, dict):
                run.pending["child"] = result.get("ExecutionArn")
                self._poll_child(step, run)
            step.save(run)
            return
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
            error = data_limit_error(info.resource if info.resource_type == "local" else named)
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

    def _on_child_ended(
        self, step: Step, machine: StateMachine, run: Run, message: Message
    ) -> None:
        """A `.sync` child ended (or the poll timer asks whether it has): end the Task."""
        state = machine.states[run.state]
        assert isinstance(state, TaskState)
        pending = run.pending or {}
        child_arn = (message.data or {}).get("child") or pending.get("child")
        child = self.store.get_execution(child_arn) if child_arn else None
        if child is None or child.status == ExecutionStatus.RUNNING:
            if child is not None and pending.get("child") == child_arn:
                self._poll_child(step, run)
            return
        if not pending.get("submitted"):
            # The child ended before its start was recorded: record the start first.
            info = self.machines.resource(state.resource)
            step.event(run, *events.task_submitted(info, nested.start_response(child)))
        outcome = nested.task_outcome(child, state.resource)
        done = Message(step.record.arn, run.id, run.seq, Kind.TASK_DONE, outcome)
        self._on_task_done(step, machine, run, done)

    def _poll_child(self, step: Step, run: Run) -> None:
        due = step.now + nested.POLL_SECONDS * self.settings.time_scale
        step.writes.timers.append(
            (due, Message(step.record.arn, run.id, run.seq, Kind.CHILD_ENDED))
        )

    def _on_map_call_done(
        self, step: Step, machine: StateMachine, run: Run, state: MapState, data: dict[str, Any]
    ) -> None:
        """A Distributed Map's ItemReader or ResultWriter call came back."""
        try:
            scope = self._scope(step, run, state)
            outcome = map_io.call_done(step, run, state, scope, data, self.machines)
        except StatesError as error:  # after MapStateSucceeded: ResultSelector, ResultPath...
            self._after_error(step, machine, run, state, error)
            return
        if isinstance(outcome, StatesError):
            self._after_error(step, machine, run, state, outcome, failed_event="MapStateFailed")
        elif outcome is not None and self._leave(step, run, state, outcome):
            self._run_states(step, machine, run, entering=True)

    def _on_timeout(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        state = machine.states[run.state]
        assert isinstance(state, TaskState)
        info = self.machines.resource(state.resource)
        error = StatesError(ErrorName.TIMEOUT, None)
        step.event(run, *events.task_timed_out(info, error.error, error.cause))
        self._after_error(step, machine, run, state, error)

    def _on_join(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        state = machine.states[run.state]
        assert isinstance(state, ParallelState | MapState)
        fanout = self.store.load_fanout(step.record.arn, run.id)
        step.writes.drop_fanouts.append(run.id)
        step.writes.drop_children_of.append(run.id)
        if fanout is not None and fanout.failure is None and map_io.writes_results(state):
            assert isinstance(state, MapState)
            scope = self._scope(step, run, state)
            failed = map_io.start_writing(step, run, state, scope, fanout)
            if failed is not None:
                self._after_error(step, machine, run, state, failed, failed_event="MapStateFailed")
            return
        prefix = "ParallelState" if isinstance(state, ParallelState) else "MapState"
        # AWS chains what follows a fan-out to its children's last event.
        after = (message.data or {}).get("after")
        if fanout is not None and fanout.map_run_arn is not None:
            after = step.event(run, "MapRunFailed" if fanout.failure else "MapRunSucceeded")
        if after is not None:
            run.last_event_id = after
        if fanout is None or fanout.failure is not None:
            error, cause = (
                fanout.failure if fanout and fanout.failure else (ErrorName.RUNTIME, None)
            )
            self._after_error(
                step, machine, run, state, StatesError(error, cause), failed_event=prefix + "Failed"
            )
            return
        step.event(run, prefix + "Succeeded")
        if after is not None:
            run.last_event_id = after  # the Exited event follows the children too
        try:
            inputs = (run.pending or {}).get("map_inputs")
            outcome = fanout_succeeded(
                state, self._scope(step, run, state), fanout.results, inputs
            )
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
                leave = Advance(outcome.output, outcome.next, outcome.assigned)
                if not self._leave(step, run, state, leave):
                    return
            elif isinstance(outcome, Failure):
                self._fail_run(step, run, outcome.error, outcome.cause)
                return
            elif isinstance(outcome, InvokeTask) and isinstance(state, MapState):
                map_io.start_reading(step, run, state, outcome)
                return
            elif isinstance(outcome, InvokeTask):
                assert isinstance(state, TaskState)
                self._invoke(step, run, state, outcome)
                return
            elif outcome.start_error is not None:
                step.event(run, "MapStateStarted", {"length": len(outcome.inputs)})
                if not self._state_error(step, machine, run, state, outcome.start_error):
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
        step.writes.transitions += 1
        run.entered_time = step.now
        run.attempts = []
        run.retry_count = 0
        run.entered_event_id = step.event(
            run, events.entered(state.type), {"name": state.name, "input": run.input}
        )

    def _leave(self, step: Step, run: Run, state: AnyState, outcome: Advance) -> bool:
        """Exit `state` with the outcome's output; True when the run goes on to `next`."""
        # An output that is the state's input unchanged was already within the limit.
        if outcome.output is not run.input and self._too_large(outcome.output):
            error = data_limit_error(state.name)
            self._fail_run(step, run, error.error, error.cause)
            return False
        details: dict[str, Any] = {"name": state.name, "output": outcome.output}
        if outcome.assigned:
            run.variables = {**run.variables, **outcome.assigned}
            details["assignedVariables"] = outcome.assigned
        step.event(run, events.exited(state.type), details)
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
        entered = step.real_id(run.entered_event_id)
        if isinstance(error, StateRuntimeError) and error.cause is not None:
            original = error
            error = StatesError(error.error, runtime_cause(state.name, entered, error.cause))
            if isinstance(original, QueryEvaluationError):
                details = {"error": error.error, "cause": error.cause, "state": state.name}
                if original.location is not None:
                    details["location"] = original.location
                step.event(run, "EvaluationFailed", details)
                if isinstance(state, MapState) and state.jsonata is not None:
                    failed_event = failed_event or "MapStateFailed"
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
            caught = Advance(decision.output, decision.next, decision.assigned)
            return self._leave(step, run, state, caught)
        cause = decision.cause
        if decision.runtime and cause is not None:
            cause = runtime_cause(state.name, entered, cause)
        self._fail_run(step, run, decision.error, cause)
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
        run.pending = {"output": outcome.output, "next": outcome.next, "assigned": outcome.assigned}
        self._schedule(step, run, outcome.due - step.now, Kind.WAKE, RunStatus.TIMER)

    def _invoke(self, step: Step, run: Run, state: TaskState, outcome: InvokeTask) -> None:
        """Schedule the Task's work: a call, a callback call, or an activity task."""
        info = self.machines.resource(state.resource)
        arn = step.record.arn
        run.seq += 1
        run.status = RunStatus.TASK
        run.pending = None
        if info.resource_type == "activity":
            step.event(
                run,
                *events.activity_scheduled(
                    state.resource,
                    outcome.payload,
                    outcome.timeout_seconds,
                    outcome.heartbeat_seconds,
                ),
            )
            task = {"taskToken": make_token(arn, run.id, run.seq), "input": outcome.payload}
            step.writes.activity_tasks.append((state.resource, json.dumps(task)))
        else:
            step.event(
                run,
                *events.task_scheduled(
                    info, outcome.payload, outcome.timeout_seconds, self.settings.region
                ),
            )
            step.event(run, *events.task_started(info))
            step.writes.tasks.append(
                TaskRequest(
                    arn,
                    run.id,
                    run.seq,
                    base_resource(state.resource),
                    outcome.payload,
                    state.name,
                    outcome.timeout_seconds,
                    is_callback(state.resource) or nested.waits_for_child(state.resource),
                )
            )
        if outcome.heartbeat_seconds is not None:
            beat = outcome.heartbeat_seconds * self.settings.time_scale
            run.pending = {"heartbeat": beat, "heartbeat_due": step.now + beat}
            step.writes.timers.append(
                (step.now + beat, Message(arn, run.id, run.seq, Kind.HEARTBEAT))
            )
        step.save(run)
        if outcome.timeout_seconds is not None:
            due = step.now + outcome.timeout_seconds * self.settings.time_scale
            step.writes.timers.append((due, Message(arn, run.id, run.seq, Kind.TIMEOUT)))

    def _on_heartbeat(self, step: Step, machine: StateMachine, run: Run, message: Message) -> None:
        """A beat from SendTaskHeartbeat moves the deadline; the timer checks it."""
        pending = run.pending or {}
        if "heartbeat" not in pending:
            return
        if message.data and message.data.get("beat"):
            pending["heartbeat_due"] = step.now + pending["heartbeat"]
            step.save(run)
            return
        if step.now < pending["heartbeat_due"]:
            step.writes.timers.append(
                (
                    pending["heartbeat_due"],
                    Message(step.record.arn, run.id, run.seq, Kind.HEARTBEAT),
                )
            )
            return
        state = machine.states[run.state]
        assert isinstance(state, TaskState)
        error = StatesError(ErrorName.HEARTBEAT_TIMEOUT, None)
        info = self.machines.resource(state.resource)
        step.event(run, *events.task_timed_out(info, error.error, error.cause))
        self._after_error(step, machine, run, state, error)

    def _on_activity_started(
        self, step: Step, machine: StateMachine, run: Run, message: Message
    ) -> None:
        step.event(run, "ActivityStarted", {"workerName": (message.data or {}).get("worker")})
        step.save(run)

    def _fan_out(
        self, step: Step, run: Run, state: ParallelState | MapState, outcome: FanOut
    ) -> None:
        if isinstance(state, MapState):
            map_io.remember_inputs(run, state, outcome)
        start_children(step, run, state, outcome, self.machines)

    # ----- ending runs ---------------------------------------------------------------------

    def _finish_run(self, step: Step, run: Run, output: Any) -> None:
        if run.parent is None:
            self._end_execution(
                step, ExecutionStatus.SUCCEEDED, "ExecutionSucceeded", output=output, root=run
            )
            return
        output = map_io.child_output(self.machines, step.record, run, output)
        report_to_parent(step, run, output=output)

    def _fail_run(self, step: Step, run: Run, error: str, cause: str | None) -> None:
        if run.parent is None:
            self._end_execution(
                step,
                ExecutionStatus.FAILED,
                "ExecutionFailed",
                error=error,
                cause=cause,
                root=run,
            )
            return
        report_to_parent(step, run, error=(error, cause))

    def _end_execution(
        self,
        step: Step,
        status: ExecutionStatus,
        event_type: str,
        *,
        output: Any = None,
        error: str | None = None,
        cause: str | None = None,
        root: Run | None = None,
    ) -> None:
        """The execution ends: its last event, its final record, and no runs left but,
        after a failure, the top-level run at the state that failed (for a redrive)."""
        if status == ExecutionStatus.SUCCEEDED:
            details: dict[str, Any] = {"output": output}
        else:
            details = events.error_details(error or "", cause)
        if root is None:
            root = self.store.load_run(step.record.arn, ROOT_RUN)
        previous = step.last_event(root.last_event_id if root is not None else 0)
        step.event(None, event_type, details, previous=previous)
        # The stop date is when the work ended, not when this step began (a step may
        # apply hundreds of states inline).
        end = ExecutionEnd(status, max(step.now, self.clock.now()), output, error, cause)
        step.writes.end = end
        step.writes.drop_all_runs = True
        step.writes.forget_after = self.forget_after(step.record)
        if status != ExecutionStatus.SUCCEEDED and root is not None:
            root.status = RunStatus.DONE
            step.save(root)
            step.writes.keep_root = True
        apply_end(step.record, end)

    def stop_execution(
        self, arn: str, error: str | None = None, cause: str | None = None
    ) -> ExecutionRecord | None:
        """Abort a running execution (StopExecution); returns its record."""
        return lifecycle.stop_execution(self, arn, error, cause)

    def redrive_execution(self, arn: str) -> ExecutionRecord:
        """Restart a failed, timed-out or aborted execution at the state where it stopped
        (RedriveExecution). Raises NotRedrivable."""
        return lifecycle.redrive_execution(self, arn)

    def update_map_run(self, arn: str, limits: map_runs.MapRunLimits) -> bool:
        """New limits for a running map run (UpdateMapRun); False if it is not running."""
        return map_runs.update_map_run(self, arn, limits)

    def commit(self, step: Step) -> None:
        """Commit a step built outside the message loop (stop, redrive)."""
        self._commit(step)

    # ----- helpers -------------------------------------------------------------------------

    def forget_after(self, record: ExecutionRecord) -> float | None:
        """Seconds an ended execution's end is kept when nothing else of it may be (an
        Express execution with `express_history` off); None to keep it all."""
        if record.type == StateMachineType.EXPRESS and not self.settings.express_history:
            return EXPRESS_RESULT_SECONDS
        return None

    def _scope(self, step: Step, run: Run, state: AnyState) -> Scope:
        if not self.machines.uses_context(state):
            return Scope(run.input, {}, run.variables)
        context = context_object(step.record, run, state)
        if isinstance(state, TaskState) and self.machines.issues_token(state):
            # The token names the step the task will wait at (after _invoke's bump).
            context["Task"] = {"Token": make_token(step.record.arn, run.id, run.seq + 1)}
        return Scope(run.input, context, run.variables)

    def _too_large(self, value: Any) -> bool:
        if value is None or isinstance(value, bool | int | float):
            return False
        limit = self.settings.max_payload_bytes
        text = self._compact_json.encode(value)
        return len(text) > limit // 4 and len(text.encode("utf-8")) > limit


_HANDLERS: dict[Kind, Callable[[Engine, Step, StateMachine, Run, Message], None]] = {
    Kind.ENTER: Engine._on_enter,
    Kind.RETRY: Engine._on_retry,
    Kind.WAKE: Engine._on_wake,
    Kind.TASK_DONE: Engine._on_task_done,
    Kind.TIMEOUT: Engine._on_timeout,
    Kind.JOIN: Engine._on_join,
    Kind.HEARTBEAT: Engine._on_heartbeat,
    Kind.ACTIVITY_STARTED: Engine._on_activity_started,
    Kind.CHILD_ENDED: Engine._on_child_ended,
}
