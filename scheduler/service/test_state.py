"""TestState: run one state once, with a given input, and say what it did.

The state runs through the same interpreter as every execution, with no history and no
waiting: a Task calls its integration once; a Wait reports its next state without
sleeping. Parallel and Map are refused (their branches would need executions).
The result is AWS's: status (SUCCEEDED, FAILED, CAUGHT_ERROR, RETRIABLE), output or
error and cause, the next state, and with inspectionLevel DEBUG the data at every
data-flow stage (JSONPath states).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from scheduler.asl.dataflow import effective_input, place_result, select_result
from scheduler.asl.errors import StatesError
from scheduler.asl.interpreter import enter, handle_error, task_succeeded
from scheduler.asl.model import AnyState, TaskState
from scheduler.asl.outcome import Advance, Caught, Failure, InvokeTask, WaitUntil
from scheduler.asl.parse import DefinitionError, load_definition
from scheduler.asl.scope import Scope
from scheduler.service.errors import InvalidDefinition, InvalidExecutionInput, ValidationException

NAME = "TestState"
Call = Callable[[str, Any, float | None], Any]


def _targets(state: dict[str, Any]) -> set[str]:
    names = {state.get("Next"), state.get("Default")}
    names |= {rule.get("Next") for rule in state.get("Choices", []) if isinstance(rule, dict)}
    names |= {c.get("Next") for c in state.get("Catch", []) if isinstance(c, dict)}
    return {n for n in names if isinstance(n, str)}


def _compile(definition: str, name: str) -> AnyState:
    try:
        body = json.loads(definition)
    except ValueError as exc:
        raise InvalidDefinition(f"Invalid State Definition: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidDefinition("Invalid State Definition: a state is a JSON object")
    if body.get("Type") in ("Parallel", "Map"):
        raise ValidationException(f"TestState does not run {body.get('Type')} states yet")
    states: dict[str, Any] = {name: body}
    for target in _targets(body) - {name}:
        states[target] = {"Type": "Succeed"}  # stand-ins so transitions validate
    try:
        machine = load_definition({"StartAt": name, "States": states})
    except DefinitionError as exc:
        problems = "; ".join(f"{d.location}: {d.message}" for d in exc.diagnostics)
        raise InvalidDefinition(f"Invalid State Definition: {problems}") from None
    return machine.states[name]


def _inspection(
    state: AnyState, scope: Scope, result: Any = None, ran: bool = False
) -> dict[str, Any]:
    """The data at each JSONPath data-flow stage, as JSON text (inspectionLevel DEBUG)."""
    data: dict[str, Any] = {"input": _text(scope.input)}
    if state.jsonata is not None:
        return data
    try:
        selected, inner = effective_input(state.flow, scope)
        data["afterInputPath"] = _text(inner.input)
        data["afterParameters"] = _text(selected)
        if ran:
            data["result"] = _text(result)
            chosen = select_result(state.flow, result, scope)
            data["afterResultSelector"] = _text(chosen)
            data["afterResultPath"] = _text(
                place_result(state.flow.result_path, scope.input, chosen)
            )
    except StatesError:
        pass
    return data


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_state(
    definition: str,
    input_text: str | None,
    call_task: Call,
    *,
    inspection_level: str = "INFO",
    state_name: str | None = None,
) -> dict[str, Any]:
    """Run the state once; TestState's response members."""
    state = _compile(definition, state_name or NAME)
    try:
        value = json.loads(input_text) if input_text is not None else {}
    except ValueError:
        raise InvalidExecutionInput("Invalid State Machine Input: not JSON") from None
    scope = Scope(value, {}, {})
    response, result, ran = _run(state, scope, call_task)
    if inspection_level in ("DEBUG", "TRACE"):
        response["inspectionData"] = _inspection(state, scope, result, ran)
    return response


def _run(state: AnyState, scope: Scope, call_task: Call) -> tuple[dict[str, Any], Any, bool]:
    result: Any = None
    ran = False
    try:
        outcome = enter(state, scope, time.time())
        if isinstance(outcome, InvokeTask):
            assert isinstance(state, TaskState)
            result = call_task(outcome.resource, outcome.payload, outcome.timeout_seconds)
            ran = True
            outcome = task_succeeded(state, scope, result)
    except StatesError as error:
        return _error(state, scope, error), result, ran
    if isinstance(outcome, Advance | WaitUntil):
        return _done("SUCCEEDED", outcome.output, outcome.next), result, ran
    if isinstance(outcome, Failure):
        return {"status": "FAILED", "error": outcome.error, "cause": outcome.cause}, result, ran
    raise ValidationException(f"TestState cannot run a {type(outcome).__name__} outcome")


def _error(state: AnyState, scope: Scope, error: StatesError) -> dict[str, Any]:
    decision = handle_error(state, scope, error, [], random.random)
    if isinstance(decision, Caught):
        response = _done("CAUGHT_ERROR", decision.output, decision.next)
    elif isinstance(decision, Failure):
        response = {"status": "FAILED"}
    else:
        response = {"status": "RETRIABLE"}
    response.update(error=error.error, cause=error.cause)
    return {k: v for k, v in response.items() if v is not None}


def _done(status: str, output: Any, next_state: str | None) -> dict[str, Any]:
    response: dict[str, Any] = {"status": status, "output": _text(output)}
    if next_state is not None:
        response["nextState"] = next_state
    return response
