"""Conformance: the recorded AWS executions, run on both engine configurations.

`embedded`: the in-process default. `cluster`: Redis + two Celery worker processes + the
scheduler process (tests/conftest.py starts them).

Every case that needs no outside service runs here, JSONata and variables included; Lambda
resources run on ../shared/conformance/handlers.py as local handlers.
Level 1 (status and output, or error and cause) must match for every case; a case we
cannot match stays listed in KNOWN_DIFFERENCES with its reason (strict xfail, so fixing
it forces the list to shrink). Level 2 (the sequence of history event types) is checked
for every `history` case, with its own list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scheduler.engine.engine import EngineSettings
from scheduler.engine.records import StateMachineType
from scheduler.runtime import EmbeddedRuntime
from tests.cluster import ClusterRuntime
from tests.conformance.cases import (
    ACCOUNT,
    Case,
    handlers_module,
    load_cases,
    registry_for,
    result_matches,
)

_STACK_TRACE = (
    "the Lambda error's stackTrace names AWS's handler file (/var/task/handler.py, line 2); "
    "ours names the local handler's real file and line"
)

_REGEX_NORMALIZER = (
    "the recording's `regex` normalizer replaced the Lambda's name in the output "
    "(lambda_function_name); cases.result_matches does not apply regex normalizers yet"
)
_VARIABLES = "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::"
_ERROR_OUTPUT = "states_variables/test_error_output.py::TestStateVariablesTemplate::"

KNOWN_DIFFERENCES: dict[str, str] = {
    "error_handling/test_task_lambda.py::TestTaskLambda::test_raise_exception": _STACK_TRACE,
    "error_handling/test_task_service_lambda.py::TestTaskServiceLambda::test_raise_exception": (
        _STACK_TRACE
    ),
    "error_handling/test_task_service_lambda.py::TestTaskServiceLambda::"
    "test_raise_custom_exception": _STACK_TRACE,
    "error_handling/test_task_service_lambda.py::TestTaskServiceLambda::"
    "test_raise_exception_catch": _STACK_TRACE,
    "scenarios/test_base_scenarios.py::TestBaseScenarios::"
    "test_retry_interval_features_jitter_none": _STACK_TRACE,
    "scenarios/test_base_scenarios.py::TestBaseScenarios::"
    "test_retry_interval_features_max_attempts_zero": _STACK_TRACE,
    _VARIABLES + "test_assign_in_catch_state": _STACK_TRACE,
    "outputdecl/test_output.py::TestArgumentsBase::test_base_task_lambda[BASE_TASK_LAMBDA]": (
        _REGEX_NORMALIZER
    ),
    _ERROR_OUTPUT + "test_catch_error_variable_sampling["
    "TASK_CATCH_ERROR_VARIABLE_SAMPLING_TO_JSONPATH]": _STACK_TRACE,
    _ERROR_OUTPUT + "test_map_catch_error[MAP_CATCH_ERROR_VARIABLE_SAMPLING]": _STACK_TRACE,
    _ERROR_OUTPUT + "test_parallel_catch_error[PARALLEL_CATCH_ERROR_OUTPUT_WITH_RETRY]": (
        _STACK_TRACE
    ),
    _ERROR_OUTPUT + "test_parallel_catch_error[PARALLEL_CATCH_ERROR_OUTPUT]": _STACK_TRACE,
    _ERROR_OUTPUT + "test_parallel_catch_error[PARALLEL_CATCH_ERROR_VARIABLE_SAMPLING]": (
        _STACK_TRACE
    ),
    _ERROR_OUTPUT + "test_task_catch_error_output[TASK_CATCH_ERROR_OUTPUT_TO_JSONPATH]": (
        _STACK_TRACE
    ),
    _ERROR_OUTPUT + "test_task_catch_error_output[TASK_CATCH_ERROR_OUTPUT]": _STACK_TRACE,
    _ERROR_OUTPUT + "test_task_catch_error_with_retry[TASK_CATCH_ERROR_OUTPUT_WITH_RETRY]": (
        _STACK_TRACE
    ),
}

_DISTRIBUTED = (
    "Distributed Map runs its items as child executions (MapRunStarted/MapRunSucceeded in "
    "the parent's history); the embedded engine runs them inline, with iteration events"
)

def _selected() -> list[Case]:
    return [
        case
        for case in load_cases()
        if case.raw.get("pure") or case.needs - {"jsonata", "variables"} <= {"lambda", "task"}
    ]


CASES = _selected()

_BRANCH_ABORTED = (
    "when the only branch of a caught Parallel fails in a Task, AWS records TaskStateAborted "
    "for that Task and no ParallelStateFailed; the engine records ParallelStateFailed"
)

KNOWN_EVENT_DIFFERENCES: dict[str, str] = {
    _ERROR_OUTPUT + "test_parallel_catch_error[PARALLEL_CATCH_ERROR_OUTPUT_WITH_RETRY]": (
        _BRANCH_ABORTED
    ),
    _ERROR_OUTPUT + "test_parallel_catch_error[PARALLEL_CATCH_ERROR_OUTPUT]": _BRANCH_ABORTED,
    _ERROR_OUTPUT + "test_parallel_catch_error[PARALLEL_CATCH_ERROR_VARIABLE_SAMPLING]": (
        _BRANCH_ABORTED
    ),
}
_HANDLERS: list[Any] = []


def _run_embedded(case: Case) -> tuple[Any, list[dict[str, Any]]]:
    if not _HANDLERS:
        _HANDLERS.append(handlers_module())
    runtime = EmbeddedRuntime(
        registry_for(case, _HANDLERS[0]),
        settings=EngineSettings(account=ACCOUNT, time_scale=0.01),
    )
    try:
        record = runtime.run(case.definition, case.input, timeout=30, **_options(case))
        return record, runtime.history(record)
    finally:
        runtime.close()


def _options(case: Case) -> dict[str, Any]:
    express = StateMachineType.EXPRESS if case.express else StateMachineType.STANDARD
    return {"role_arn": case.role_arn, "type_": express}


@pytest.fixture(params=["embedded", "cluster"])
def run_case(request: pytest.FixtureRequest) -> Callable[[Case], tuple[Any, list[Any]]]:
    """Runs a case on one engine configuration; returns (record, history)."""
    if request.param == "embedded":
        return _run_embedded
    runtime: ClusterRuntime = request.getfixturevalue("cluster_runtime")

    def run(case: Case) -> tuple[Any, list[Any]]:
        record = runtime.run(case.definition, case.input, timeout=30, **_options(case))
        return record, runtime.history(record)

    return run


def _params(known: dict[str, str], cases: list[Case]) -> list[Any]:
    params = []
    for case in cases:
        marks = []
        if case.id in known:
            marks.append(pytest.mark.xfail(reason=known[case.id], strict=True))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params or [pytest.param(None, marks=pytest.mark.skip(reason="no conformance folder"))]


@pytest.mark.parametrize("case", _params(KNOWN_DIFFERENCES, CASES))
def test_result_matches_aws(case: Case, run_case: Callable[[Case], Any]) -> None:
    record, _ = run_case(case)
    difference = result_matches(
        case, record.status.value, record.output, record.error, record.cause
    )
    assert difference is None, difference


def _event_types(case: Case, history: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    ours = [event["type"] for event in history]
    expected = list(case.expected["events"])
    if any(n.get("kind") == "parallel_sort" for n in case.raw.get("normalizers", [])):
        # The recording dropped ParallelStateSucceeded and sorted interleaved branches.
        ours = sorted(t for t in ours if t != "ParallelStateSucceeded")
        expected = sorted(expected)
    return ours, expected


@pytest.mark.parametrize(
    "case",
    _params(
        KNOWN_EVENT_DIFFERENCES,
        [c for c in CASES if c.raw.get("kind") == "history" and c.expected.get("events")],
    ),
)
def test_history_event_types_match_aws(case: Case, run_case: Callable[[Case], Any]) -> None:
    _, history = run_case(case)
    ours, expected = _event_types(case, history)
    assert ours == expected
