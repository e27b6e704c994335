"""The interpreter: given a state, its scope and the time, decide what happens next.

Pure: no I/O and no clock reads beyond the `now` it is handed. The engine calls `enter`
when a state is entered, then `task_succeeded` / `fanout_succeeded` when the work it asked
for comes back, and `handle_error` when anything fails, and applies each decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from scheduler.asl.dataflow import (
    effective_input,
    output,
    output_of_input,
    place_result,
    select_result,
)
from scheduler.asl.errors import ErrorName, StateRuntimeError, StatesError
from scheduler.asl.fanout import map_fanout, parallel_fanout
from scheduler.asl.model import (
    AnyState,
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
    InvokeTask,
    Outcome,
    RetryAfter,
    WaitUntil,
)
from scheduler.asl.paths import Path, PathNotFound
from scheduler.asl.retry import error_output, find_catcher, find_retry
from scheduler.asl.scope import Scope
from scheduler.asl.wait import wait_due


def _pass(state: PassState, scope: Scope, now: float) -> Outcome:
    value, _ = effective_input(state.flow, scope)
    result = state.result if state.has_result else value
    return Advance(output(state.flow, scope.input, result, scope), state.next)


def _choice(state: ChoiceState, scope: Scope, now: float) -> Outcome:
    selected, inner = effective_input(state.flow, scope)
    for rule in state.choices:
        if rule.matches(inner):
            return Advance(output_of_input(state.flow, selected, scope), rule.next)
    if state.default is None:
        return Failure(ErrorName.NO_CHOICE_MATCHED, "No Matches!")
    return Advance(output_of_input(state.flow, selected, scope), state.default)


def _wait(state: WaitState, scope: Scope, now: float) -> Outcome:
    selected, inner = effective_input(state.flow, scope)
    due = wait_due(state, inner, now)
    return WaitUntil(due, output_of_input(state.flow, selected, scope), state.next)


def _succeed(state: SucceedState, scope: Scope, now: float) -> Outcome:
    selected, _ = effective_input(state.flow, scope)
    return Advance(output_of_input(state.flow, selected, scope), None)


def _fail(state: FailState, scope: Scope, now: float) -> Outcome:
    error = state.error_path(scope) if state.error_path else state.error
    cause = state.cause_path(scope) if state.cause_path else state.cause
    return Failure(error if error is not None else "", cause)


def _seconds(literal: int | None, path: Path | None, scope: Scope) -> float | None:
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
    payload, inner = effective_input(state.flow, scope)
    return InvokeTask(
        resource=state.resource,
        payload=payload,
        timeout_seconds=_seconds(state.timeout_seconds, state.timeout_seconds_path, inner),
        heartbeat_seconds=_seconds(state.heartbeat_seconds, state.heartbeat_seconds_path, inner),
    )


def _parallel(state: ParallelState, scope: Scope, now: float) -> Outcome:
    return parallel_fanout(state, scope)


def _map(state: MapState, scope: Scope, now: float) -> Outcome:
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


def task_succeeded(state: TaskState, scope: Scope, result: Any) -> Advance:
    """A Task's result came back: ResultSelector, ResultPath, OutputPath."""
    selected = select_result(state.flow, result, scope)
    return Advance(output(state.flow, scope.input, selected, scope), state.next)


def fanout_succeeded(state: ParallelState | MapState, scope: Scope, results: list[Any]) -> Advance:
    """All branches or iterations finished: their outputs, in order, are the result."""
    selected = select_result(state.flow, results, scope)
    return Advance(output(state.flow, scope.input, selected, scope), state.next)


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
    caught = error_output(error.error, error.cause)
    try:
        return Caught(place_result(catcher.result_path, scope.input, caught), catcher.next)
    except StatesError as unplaceable:  # the catcher's ResultPath cannot apply to the input
        return Failure(unplaceable.error, unplaceable.cause)
