"""TestState for Parallel and Map states: their result from a mock, or by running them.

With a mock, the result stands in for the branches or iterations (AWS checks its shape:
an array, one item per Parallel branch), or the mocked error is the state's error.
`mapIterationFailureCount` says how many iterations failed; past the Map's tolerance the
state fails with States.ExceedToleratedFailureThreshold, as it would in an execution.

Without a mock, Stepline runs every branch or iteration to its end in memory, through
the same engine as an execution, with Waits and retry delays skipped. AWS refuses Map and
Parallel without a mock; this is Stepline's extension. Each branch runs as its own
execution, so it sees its input but not the outer variables.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from scheduler.asl.errors import ErrorName, StatesError
from scheduler.asl.model import MapState, ParallelState, StateMachine
from scheduler.asl.outcome import FanOut
from scheduler.asl.retry import error_output
from scheduler.engine.clock import SkippingClock
from scheduler.engine.fanin import THRESHOLD_CAUSE, max_failures
from scheduler.engine.records import ExecutionRecord, ExecutionStatus, StateMachineType
from scheduler.engine.settings import EngineSettings
from scheduler.express import run_in_memory
from scheduler.service.errors import ValidationException
from scheduler.service.test_state_request import Mock, StateConfiguration

Call = Callable[[str, Any, float | None], Any]
FanState = ParallelState | MapState
ROLE = "arn:aws:iam::123456789012:role/stepline"


def _tolerance_error() -> StatesError:
    return StatesError(ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD, THRESHOLD_CAUSE)


def _state_names(machine: StateMachine) -> set[str]:
    names = set(machine.states)
    for state in machine.states.values():
        if isinstance(state, ParallelState):
            for branch in state.branches:
                names |= _state_names(branch)
        elif isinstance(state, MapState) and state.processor is not None:
            names |= _state_names(state.processor)
    return names


def check_error_origin(state: FanState, fanout: FanOut, configuration: StateConfiguration) -> None:
    """`errorCausedByState` must name a state inside the branches or the item processor."""
    origin = configuration.error_caused_by_state
    if origin is None:
        return
    names: set[str] = set()
    for machine in fanout.machines:
        names |= _state_names(machine)
    if origin not in names:
        raise ValidationException(
            f"errorCausedByState '{origin}' is not a state of the {state.type} state '{state.name}'"
        )


def mocked_result(
    state: FanState, fanout: FanOut, mock: Mock, configuration: StateConfiguration
) -> Any:
    """The mocked branches' or iterations' result; raises the mocked (or tolerance) error."""
    check_error_origin(state, fanout, configuration)
    if not mock.has_result:
        raise StatesError(mock.error or "", mock.cause)
    result = mock.result
    if isinstance(state, MapState) and "ResultWriter" in state.raw:
        if not isinstance(result, dict):  # a ResultWriter's Map returns where it wrote
            raise ValidationException("Mocked result must be a JSON object.")
    elif not isinstance(result, list):
        raise ValidationException("Mocked result must be an array.")
    elif isinstance(state, ParallelState) and len(result) != len(state.branches):
        raise ValidationException(
            "Mocked result must contain the same number of items as number of Parallel branches."
        )
    failed = configuration.map_iteration_failure_count
    if isinstance(state, MapState) and failed:
        count, percentage = fanout.tolerated_failure_count, fanout.tolerated_failure_percentage
        if failed > max_failures(count, percentage, len(fanout.inputs)):
            raise _tolerance_error()
    return result


def _child_definition(state: FanState, index: int, query_language: str) -> str:
    """The JSON of branch `index` (Parallel) or of the item processor (Map)."""
    if isinstance(state, ParallelState):
        body = dict(state.raw["Branches"][index])
    else:
        raw = state.raw.get("ItemProcessor") or state.raw.get("Iterator") or {}
        body = {k: v for k, v in raw.items() if k != "ProcessorConfig"}
    body.setdefault("QueryLanguage", query_language)
    return json.dumps(body)


def run_children(
    state: FanState, fanout: FanOut, call_task: Call, query_language: str
) -> list[Any]:
    """Run every branch or iteration to its end; their outputs in order, or the error."""
    if fanout.start_error is not None:
        raise fanout.start_error
    outputs: list[Any] = []
    failures = 0
    allowed = max_failures(
        fanout.tolerated_failure_count, fanout.tolerated_failure_percentage, len(fanout.inputs)
    )
    tolerance_set = (
        fanout.tolerated_failure_count is not None
        or fanout.tolerated_failure_percentage is not None
    )
    for index, value in enumerate(fanout.inputs):
        child = _child_definition(
            state, 0 if isinstance(state, MapState) else index, query_language
        )
        final = _run_one(child, value, call_task)
        if final.status == ExecutionStatus.SUCCEEDED:
            outputs.append(final.output)
            continue
        error = StatesError(final.error or "", final.cause)
        failures += 1
        if isinstance(state, ParallelState) or failures > allowed:
            raise _tolerance_error() if tolerance_set else error
        outputs.append(error_output(error.error, error.cause))
    return outputs


def _run_one(definition: str, value: Any, call_task: Call) -> ExecutionRecord:
    name = f"teststate-{uuid.uuid4()}"
    machine_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:TestState"
    record = ExecutionRecord(
        arn=f"arn:aws:states:us-east-1:123456789012:express:TestState:{name}",
        name=name,
        state_machine_arn=machine_arn,
        definition=definition,
        input=value,
        start_date=0.0,
        type=StateMachineType.EXPRESS,
        role_arn=ROLE,
    )
    def caller(
        resource: str, payload: Any, timeout: float | None, request: Any = None, /
    ) -> Any:
        return call_task(resource, payload, timeout)

    final, _ = run_in_memory(record, caller, EngineSettings(), SkippingClock())
    return final
