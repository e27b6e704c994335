"""The interpreter: given a state, its scope and the time, decide what happens next.

Pure: no I/O and no clock reads beyond the `now` it is handed (JSONata's `$now()` aside).
The engine calls `enter` when a state is entered, then `task_succeeded` / `fanout_succeeded`
when the work it asked for comes back, and `handle_error` when anything fails, and applies
each decision. Every state runs in its query language: JSONPath (`dataflow`) or JSONata
(`jsonata_flow`); what its `Assign` sets travels in the outcome's `assigned`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from scheduler.asl import jsonata_flow
from scheduler.asl.choice import ChoiceRule
from scheduler.asl.dataflow import (
    effective_input,
    leave_with_result,
    output,
    output_of_input,
    place_result,
)
from scheduler.asl.errors import (
    ErrorName,
    QueryEvaluationError,
    StateRuntimeError,
    StatesError,
)
from scheduler.asl.fanout import map_fanout, map_items_read, map_reader_call, parallel_fanout
from scheduler.asl.jsonata_fields import FieldValue
from scheduler.asl.model import (
    AnyState,
    Catcher,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    SucceedState,
    TaskState,
    WaitState,
)
from scheduler.asl.outcome import (
    Advance,
    Caught,
    ErrorOutcome,
    Failure,
    FanOut,
    InvokeTask,
    Outcome,
    RetryAfter,
    WaitUntil,
)
from scheduler.asl.paths import Path, PathNotFound
from scheduler.asl.result_writer import transformed, write_request, writer_output
from scheduler.asl.retry import error_output, find_catcher, find_retry
from scheduler.asl.scope import Scope
from scheduler.asl.variables import run_assign
from scheduler.asl.wait import wait_due

Leaving = tuple[Any, dict[str, Any] | None]
"""A state's output and the variables it assigns."""


def _pass(state: PassState, scope: Scope, now: float) -> Outcome:
    if state.jsonata is not None:
        out, assigned = jsonata_flow.finish(state.assign, state.jsonata.output, scope, scope.input)
        return Advance(out, state.next, assigned)
    value, _ = effective_input(state.flow, scope)
    result = state.result if state.has_result else value
    # Without an Assign there is nothing to evaluate, so no scope to build for it.
    assigned = None if state.assign is None else run_assign(state.assign, scope.with_input(result))
    return Advance(output(state.flow, scope.input, result, scope), state.next, assigned)


def _leave_unchanged(state: AnyState, scope: Scope, rule: ChoiceRule | None = None) -> Leaving:
    """Output and Assign of a state without a result (Choice, Wait, Succeed).

    A matched Choice rule brings its own Assign and Output instead of the state's, which
    apply only when the Choice takes its Default.
    """
    assign = state.assign if rule is None else rule.assign
    if state.jsonata is not None:
        out_field = state.jsonata.output if rule is None else rule.output
        return jsonata_flow.finish(assign, out_field, scope, scope.input)
    selected, _ = effective_input(state.flow, scope)  # InputPath: these have no Parameters
    assigned = run_assign(assign, scope.with_input(selected))
    return output_of_input(state.flow, selected, scope), assigned


def _choice(state: ChoiceState, scope: Scope, now: float) -> Outcome:
    inner = scope if state.jsonata is not None else effective_input(state.flow, scope)[1]
    for rule in state.choices:
        if rule.matches(inner):
            out, assigned = _leave_unchanged(state, scope, rule)
            return Advance(out, rule.next, assigned)
    if state.default is None:
        return Failure(ErrorName.NO_CHOICE_MATCHED, "No Matches!")
    out, assigned = _leave_unchanged(state, scope)
    return Advance(out, state.default, assigned)


def _wait(state: WaitState, scope: Scope, now: float) -> Outcome:
    inner = scope if state.jsonata is not None else effective_input(state.flow, scope)[1]
    due = wait_due(state, inner, now)
    out, assigned = _leave_unchanged(state, scope)
    return WaitUntil(due, out, state.next, assigned)


def _succeed(state: SucceedState, scope: Scope, now: float) -> Outcome:
    out, _ = _leave_unchanged(state, scope)
    return Advance(out, None)


def _fail(state: FailState, scope: Scope, now: float) -> Outcome:
    error = state.error_path(scope) if state.error_path else state.error
    cause = state.cause_path(scope) if state.cause_path else state.cause
    return Failure(error if error is not None else "", cause)


def _seconds(
    field: str, literal: int | None, path: Path | None, expr: FieldValue | None, scope: Scope
) -> float | None:
    if expr is not None:
        value = expr(scope)
        if value <= 0:
            raise QueryEvaluationError(
                f"The {field} field must be a positive integer, but was: {value}", field
            )
        return int(value)
    if path is None:
        return literal
    try:
        value = scope.resolve(path)
    except PathNotFound as missing:
        raise StateRuntimeError(f"Invalid path '{path.text}' : {missing.reason}") from None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise StateRuntimeError(f"The value of '{path.text}' must be a positive integer")
    return value


def _task(state: TaskState, scope: Scope, now: float) -> Outcome:
    if state.jsonata is not None:
        payload, inner = jsonata_flow.arguments(state.jsonata, scope), scope
    else:
        payload, inner = effective_input(state.flow, scope)
    timeout = _seconds(
        "TimeoutSeconds",
        state.timeout_seconds,
        state.timeout_seconds_path,
        state.timeout_seconds_expr,
        inner,
    )
    heartbeat = _seconds(
        "HeartbeatSeconds",
        state.heartbeat_seconds,
        state.heartbeat_seconds_path,
        state.heartbeat_seconds_expr,
        inner,
    )
    return InvokeTask(state.resource, payload, timeout, heartbeat)


def _parallel(state: ParallelState, scope: Scope, now: float) -> Outcome:
    return parallel_fanout(state, scope)


def _map(state: MapState, scope: Scope, now: float) -> Outcome:
    if state.reader is not None:
        return map_reader_call(state, scope)
    return map_fanout(state, scope)


_ENTER: dict[type, Callable[[Any, Scope, float], Outcome]] = {
    PassState: _pass,
    ChoiceState: _choice,
    WaitState: _wait,
    SucceedState: _succeed,
    FailState: _fail,
    TaskState: _task,
    ParallelState: _parallel,
    MapState: _map,
}


def enter(state: AnyState, scope: Scope, now: float) -> Outcome:
    """Decide what entering `state` with `scope.input` (its raw input) does.

    Raises StatesError for failures that Retry/Catch may handle (see `handle_error`).
    """
    return _ENTER[type(state)](state, scope, now)


def _succeeded(state: TaskState | ParallelState | MapState, scope: Scope, result: Any) -> Advance:
    if state.jsonata is not None:
        out, assigned = jsonata_flow.finish(
            state.assign, state.jsonata.output, scope.with_result(result), result
        )
    else:
        out, assigned = leave_with_result(state.flow, state.assign, scope, result)
    return Advance(out, state.next, assigned)


def task_succeeded(state: TaskState, scope: Scope, result: Any) -> Advance:
    """A Task's result came back: ResultSelector, Assign, ResultPath, OutputPath (JSONPath)
    or Assign and Output (JSONata)."""
    return _succeeded(state, scope, result)


def fanout_succeeded(
    state: ParallelState | MapState,
    scope: Scope,
    results: list[Any],
    inputs: list[Any] | None = None,
) -> Advance:
    """All branches or iterations finished: their outputs, in order, are the result (a
    Map's WriterConfig may transform them; `inputs` are the iterations' inputs)."""
    if isinstance(state, MapState) and state.writer is not None:
        results = transformed(state.writer, inputs or [], results)
    return _succeeded(state, scope, results)


def items_read(state: MapState, scope: Scope, result: Any) -> FanOut:
    """A Map's ItemReader call came back with `result`: fan out over its items.
    Raises StatesError (States.ItemReaderFailed) when they cannot be read."""
    return map_items_read(state, scope, result)


def results_to_write(
    state: MapState, scope: Scope, map_run_arn: str, inputs: list[Any], results: list[Any]
) -> InvokeTask:
    """A Map whose ResultWriter has a Resource: the call that writes its results."""
    assert state.writer is not None and state.writer.resource is not None
    payload = write_request(state.writer, scope, state.name, map_run_arn, inputs, results)
    return InvokeTask(state.writer.resource, payload, None, None)


def results_written(state: MapState, scope: Scope, map_run_arn: str, details: Any) -> Advance:
    """The results are written: the Map's result is the map run and where they went."""
    return _succeeded(state, scope, writer_output(map_run_arn, details))


def _catch(catcher: Catcher, scope: Scope, caught: dict[str, Any]) -> Leaving:
    """A catcher's Assign and its Output (JSONata) or ResultPath (JSONPath)."""
    if catcher.jsonata:
        return jsonata_flow.finish(
            catcher.assign, catcher.output, scope.with_error_output(caught), caught
        )
    assigned = run_assign(catcher.assign, scope.with_input(caught))
    return place_result(catcher.result_path, scope.input, caught), assigned


def handle_error(
    state: AnyState,
    scope: Scope,
    error: StatesError,
    attempts: Sequence[int],
    random: Callable[[], float],
) -> ErrorOutcome:
    """A state failed: retry it, route to a catcher, or fail the branch."""
    retriers = getattr(state, "retry", ())
    catchers = getattr(state, "catch", ())
    found = find_retry(retriers, error.error, attempts, random) if retriers else None
    if found is not None:
        return RetryAfter(delay=found[1], retrier=found[0])
    catcher = find_catcher(catchers, error.error) if catchers else None
    if catcher is None:
        return Failure(error.error, error.cause)
    try:
        out, assigned = _catch(catcher, scope, error_output(error.error, error.cause))
    except StatesError as failed:  # the catcher's ResultPath, Output or Assign cannot apply
        return Failure(failed.error, failed.cause, isinstance(failed, StateRuntimeError))
    return Caught(out, catcher.next, assigned)
