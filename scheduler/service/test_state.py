"""TestState: run one state once, with a given input, and say what it did.

The state runs through the same interpreter as every execution, with no history and no
waiting: a Task calls its integration once (or takes its `mock`); a Wait reports its next
state without sleeping; a Parallel or Map takes its mocked result or runs its branches
(`test_state_fanout`). The state is a single state's definition, or `stateName` in a full
state machine definition. `variables` and `context` fill `$name` and `$$`;
`stateConfiguration` says how many retries already happened and how many Map iterations
failed. The result is AWS's: status (SUCCEEDED, FAILED, CAUGHT_ERROR, RETRIABLE), output
or error and cause, the next state, and with inspectionLevel DEBUG or TRACE the data at
every data-flow stage (`test_state_inspect`).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from integrations.http import Exchange
from scheduler.asl.errors import StatesError
from scheduler.asl.fanout import map_fanout
from scheduler.asl.interpreter import enter, fanout_succeeded, handle_error, task_succeeded
from scheduler.asl.model import AnyState, MapState, ParallelState, StateMachine, TaskState
from scheduler.asl.outcome import (
    Advance,
    Caught,
    Failure,
    FanOut,
    InvokeTask,
    Outcome,
    RetryAfter,
    WaitUntil,
)
from scheduler.asl.parse import DefinitionError, load_definition
from scheduler.asl.retry import error_matches
from scheduler.asl.scope import Scope
from scheduler.engine.clock import iso_timestamp
from scheduler.service import test_state_fanout as fanouts
from scheduler.service.errors import InvalidDefinition, ValidationException
from scheduler.service.test_state_http import render, traced_call
from scheduler.service.test_state_inspect import Inspection, text
from scheduler.service.test_state_mock import check_mock_result
from scheduler.service.test_state_request import TestStateRequest

NAME = "TestState"
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:TestState"
Call = Callable[[str, Any, float | None], Any]
_MOCKABLE = ("Task", "Map", "Parallel")


@dataclass(frozen=True)
class Target:
    """The state under test and the query language of the machine around it."""

    state: AnyState
    query_language: str


def _targets(state: dict[str, Any]) -> set[str]:
    names = {state.get("Next"), state.get("Default")}
    names |= {rule.get("Next") for rule in state.get("Choices", []) if isinstance(rule, dict)}
    names |= {c.get("Next") for c in state.get("Catch", []) if isinstance(c, dict)}
    return {n for n in names if isinstance(n, str)}


def _load(body: dict[str, Any]) -> StateMachine:
    try:
        return load_definition(body)
    except DefinitionError as exc:
        problems = "; ".join(f"{d.location}: {d.message}" for d in exc.diagnostics)
        raise InvalidDefinition(f"Invalid State Machine Definition: {problems}") from None


def _find(machine: StateMachine, name: str) -> Target | None:
    """`name` anywhere in `machine`, inside Parallel branches and Map processors too."""
    if name in machine.states:
        return Target(machine.states[name], machine.query_language)
    for state in machine.states.values():
        inner: tuple[StateMachine, ...] = ()
        if isinstance(state, ParallelState):
            inner = state.branches
        elif isinstance(state, MapState) and state.processor is not None:
            inner = (state.processor,)
        for child in inner:
            found = _find(child, name)
            if found is not None:
                return found
    return None


def compile_target(definition: str, state_name: str | None) -> Target:
    """The state to test: the one state defined, or `state_name` in a full definition."""
    try:
        body = json.loads(definition)
    except ValueError as exc:
        raise InvalidDefinition(f"Invalid State Definition: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidDefinition("Invalid State Definition: a state is a JSON object")
    if state_name is not None:
        if not isinstance(body.get("States"), dict):
            raise InvalidDefinition(
                "Invalid State Machine Definition: with stateName, the definition must be a "
                "state machine (StartAt and States)"
            )
        found = _find(_load(body), state_name)
        if found is None:
            raise ValidationException("State not found in definition")
        return found
    states: dict[str, Any] = {NAME: body}
    for target in _targets(body) - {NAME}:
        states[target] = {"Type": "Succeed"}  # stand-ins so transitions validate
    machine = _load({"StartAt": NAME, "States": states})
    return Target(machine.states[NAME], machine.query_language)


def _check_request(state: AnyState, request: TestStateRequest) -> None:
    if request.mock is not None and state.type not in _MOCKABLE:
        raise ValidationException(
            f"State type '{state.type}' is not supported when a mock is specified"
        )
    if request.mock is None and isinstance(state, TaskState):
        resource = state.resource
        if ":activity:" in resource or ".sync" in resource or ".waitForTaskToken" in resource:
            raise ValidationException(
                f"TestState runs the Task '{state.name}' ({resource}) only with a mock: "
                "activities, .sync and .waitForTaskToken need a mock"
            )


def context_object(state: AnyState, request: TestStateRequest, now: float) -> dict[str, Any]:
    """`$$` as an execution would have it, overlaid section by section with `context`."""
    execution = {
        "Id": f"arn:aws:states:us-east-1:123456789012:execution:TestState:{NAME}",
        "Input": request.input,
        "Name": NAME,
        "RoleArn": request.role_arn,
        "StartTime": iso_timestamp(now),
    }
    state_ctx: dict[str, Any] = {"EnteredTime": iso_timestamp(now), "Name": state.name}
    if state.type in _MOCKABLE:
        state_ctx["RetryCount"] = request.configuration.retrier_retry_count
    context: dict[str, Any] = {
        "Execution": execution,
        "StateMachine": {"Id": MACHINE_ARN, "Name": NAME},
        "State": state_ctx,
    }
    if isinstance(state, TaskState) and state.resource.endswith(".waitForTaskToken"):
        context["Task"] = {"Token": f"teststate-{uuid.uuid4()}"}  # nobody will send it back
    for key, value in (request.context or {}).items():
        base = context.get(key)
        context[key] = (
            {**base, **value} if isinstance(base, dict) and isinstance(value, dict) else value
        )
    return context


@dataclass(frozen=True)
class _Run:
    """One TestState run: the state, what was asked, and where inspection data goes."""

    target: Target
    scope: Scope
    request: TestStateRequest
    call_task: Call
    inspection: Inspection
    now: float


def test_state(request: TestStateRequest, call_task: Call) -> dict[str, Any]:
    """Run the state once; TestState's response members."""
    target = compile_target(request.definition, request.state_name)
    _check_request(target.state, request)
    now = time.time()
    scope = Scope(request.input, context_object(target.state, request, now), request.variables)
    run = _Run(target, scope, request, call_task, Inspection(target.state, scope), now)
    response = _respond(run)
    if request.inspection_level in ("DEBUG", "TRACE"):
        response["inspectionData"] = run.inspection.data()
    return response


def _enter(run: _Run) -> Outcome:
    """The interpreter's decision; a Map with an ItemReader iterates `mapItemReaderData`."""
    state, scope, request = run.target.state, run.scope, run.request
    reader_data = request.configuration.map_item_reader_data
    if not isinstance(state, MapState) or "ItemReader" not in state.raw:
        return enter(state, scope, run.now)
    if reader_data is None:
        if request.mock is not None:  # the mock stands in for the items too
            return map_fanout(state, scope, [])
        raise ValidationException(
            f"The Map state '{state.name}' reads its items with an ItemReader: give them in "
            "stateConfiguration.mapItemReaderData, or mock the state"
        )
    if not isinstance(reader_data, list):
        raise ValidationException("mapItemReaderData must be a JSON array of the items read")
    return map_fanout(state, scope, reader_data)


def _work(run: _Run) -> Outcome:
    """Enter the state and do its work (or take the mock): the outcome it leaves with."""
    state, mock = run.target.state, run.request.mock
    outcome = _enter(run)
    run.inspection.entered(outcome)
    if isinstance(outcome, InvokeTask):
        assert isinstance(state, TaskState)
        if mock is None:
            result = _call(run, outcome)
        elif mock.has_result:
            check_mock_result(state.resource, mock.result, mock.field_validation_mode)
            result = mock.result
        else:
            raise StatesError(mock.error or "", mock.cause)
        run.inspection.result(result)
        return task_succeeded(state, run.scope, result)
    if isinstance(outcome, FanOut):
        assert isinstance(state, ParallelState | MapState)
        if mock is not None:
            results = fanouts.mocked_result(state, outcome, mock, run.request.configuration)
        else:
            language = run.target.query_language
            results = fanouts.run_children(state, outcome, run.call_task, language)
        run.inspection.result(results)
        if isinstance(state, MapState) and state.writer is not None and mock is not None:
            # The mock is what the writer left (an object): the Map's result as it is.
            state = replace(state, writer=None)
        return fanout_succeeded(state, run.scope, results)
    return outcome


def _call(run: _Run, outcome: InvokeTask) -> Any:
    """Call the Task's integration; with TRACE, an HTTP Task's request and response."""
    task = (outcome.resource, outcome.payload, outcome.timeout_seconds)
    if run.request.inspection_level != "TRACE":
        return run.call_task(*task)
    exchanges: list[Exchange] = []
    try:
        return traced_call(run.call_task, *task, exchanges)
    finally:
        if exchanges:
            run.inspection.http(render(exchanges[-1], run.request.reveal_secrets))


def _respond(run: _Run) -> dict[str, Any]:
    """Run the state; status, output or error, next state."""
    try:
        outcome = _work(run)
    except StatesError as error:
        return _error(run, error)
    if isinstance(outcome, Advance | WaitUntil):
        run.inspection.left(outcome.output, outcome.assigned)
        return _done("SUCCEEDED", outcome.output, outcome.next)
    if isinstance(outcome, Failure):
        return _drop_none({"status": "FAILED", "error": outcome.error, "cause": outcome.cause})
    raise ValidationException(f"TestState cannot run a {type(outcome).__name__} outcome")


def _error(run: _Run, error: StatesError) -> dict[str, Any]:
    """The state failed: RETRIABLE (a retrier has attempts left), CAUGHT_ERROR or FAILED."""
    state = run.target.state
    retriers = getattr(state, "retry", ())
    attempts = [run.request.configuration.retrier_retry_count] * len(retriers)
    decision = handle_error(state, run.scope, error, attempts, random.random)
    if isinstance(decision, Caught):
        catchers = list(getattr(state, "catch", ()))
        index = next(
            i for i, c in enumerate(catchers) if error_matches(c.error_equals, error.error)
        )
        run.inspection.caught(index, decision.output, decision.assigned)
        response = _done("CAUGHT_ERROR", decision.output, decision.next)
    elif isinstance(decision, RetryAfter):
        run.inspection.retried(decision.retrier, decision.delay)
        response = {"status": "RETRIABLE"}
    else:
        response = {"status": "FAILED"}
        if decision.error != error.error or decision.cause != error.cause:
            error = StatesError(decision.error, decision.cause)  # the catcher itself failed
    response.update(error=error.error, cause=error.cause)
    return _drop_none(response)


def _drop_none(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if v is not None}


def _done(status: str, output: Any, next_state: str | None) -> dict[str, Any]:
    response: dict[str, Any] = {"status": status, "output": text(output)}
    if next_state is not None:
        response["nextState"] = next_state
    return response
