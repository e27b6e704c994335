"""Nested `.sync` executions in the engine: what the parent's Task gets when its child
ends, a child that ends before its start is recorded, and a lost end message."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest

from scheduler.engine import nested
from scheduler.engine.engine import EngineSettings
from scheduler.engine.messages import Kind, TaskRequest
from scheduler.engine.records import ExecutionRecord, ExecutionStatus
from scheduler.engine.tokens import make_token, parse_token
from scheduler.runtime import EmbeddedRuntime

CHILD_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:child"
CHILD = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "End": True}}}


def record(status: ExecutionStatus, **fields: Any) -> ExecutionRecord:
    return ExecutionRecord(
        arn="arn:aws:states:us-east-1:123456789012:execution:child:kid",
        name="kid",
        state_machine_arn=CHILD_MACHINE,
        definition="{}",
        input={"n": 1},
        start_date=1_700_000_000.25,
        status=status,
        stop_date=1_700_000_001.5,
        **fields,
    )


def test_sync_output_is_describe_execution_with_text_and_sync_2_with_json() -> None:
    done = record(ExecutionStatus.SUCCEEDED, output={"m": 2})
    text = nested.task_outcome(done, nested.SYNC)["result"]
    assert text == {
        "ExecutionArn": done.arn,
        "Input": '{"n":1}',
        "InputDetails": {"Included": True},
        "Name": "kid",
        "Output": '{"m":2}',
        "OutputDetails": {"Included": True},
        "StartDate": 1_700_000_000_250,
        "StateMachineArn": CHILD_MACHINE,
        "Status": "SUCCEEDED",
        "StopDate": 1_700_000_001_500,
    }
    parsed = nested.task_outcome(done, nested.SYNC_2)["result"]
    assert (parsed["Input"], parsed["Output"]) == ({"n": 1}, {"m": 2})


@pytest.mark.parametrize(
    "status", [ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED]
)
def test_a_child_that_did_not_succeed_fails_the_task(status: ExecutionStatus) -> None:
    ended = record(status, error="Bad", cause="why")
    outcome = nested.task_outcome(ended, nested.SYNC)
    assert outcome["error"] == "States.TaskFailed"
    cause = json.loads(outcome["cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == (status.value, "Bad", "why")
    assert "Output" not in cause


def test_only_a_child_with_a_parent_sends_an_end_message() -> None:
    assert nested.parent_message(record(ExecutionStatus.SUCCEEDED)) is None
    token = make_token("arn:parent", "0.2", 7)
    message = nested.parent_message(record(ExecutionStatus.SUCCEEDED, parent_token=token))
    assert message is not None
    assert (message.execution, message.run, message.seq) == parse_token(token)
    assert message.kind == Kind.CHILD_ENDED
    assert not nested.waits_for_child(nested.START_EXECUTION)


def runtime_with(start_child: Callable[[EmbeddedRuntime, TaskRequest], ExecutionRecord],
                 time_scale: float = 1.0) -> EmbeddedRuntime:
    """An embedded runtime whose `states:` integration starts CHILD with `start_child`."""
    runtime = EmbeddedRuntime(settings=EngineSettings(time_scale=time_scale))

    def integration(resource: str, payload: Any, timeout: float | None,
                    request: TaskRequest | None) -> Any:
        assert request is not None
        return nested.start_response(start_child(runtime, request))

    runtime.invoker.add_with_caller("arn:aws:states:::states:", integration)
    return runtime


def on_loop(runtime: EmbeddedRuntime, request: TaskRequest, linked: bool) -> ExecutionRecord:
    """Start CHILD on the engine's loop thread (from the task thread)."""
    started: Future[ExecutionRecord] = Future()

    def start() -> None:
        token = make_token(request.execution, request.run, request.seq) if linked else None
        child = runtime.engine.start_execution(
            arn=CHILD_MACHINE.replace("stateMachine", "execution") + ":kid",
            name="kid",
            state_machine_arn=CHILD_MACHINE,
            definition=json.dumps(CHILD),
            input_value={"n": 1},
            parent_token=token,
        )
        assert child is not None
        started.set_result(child)

    runtime.dispatcher.call_soon(start)
    return started.result(10)


PARENT = {
    "StartAt": "Run",
    "States": {
        "Run": {
            "Type": "Task",
            "Resource": nested.SYNC_2,
            "Parameters": {"StateMachineArn": CHILD_MACHINE},
            "End": True,
        }
    },
}


def test_a_child_that_ends_before_its_start_is_recorded_is_submitted_once() -> None:
    def start_and_finish(runtime: EmbeddedRuntime, request: TaskRequest) -> ExecutionRecord:
        child = on_loop(runtime, request, linked=True)
        finished: Future[None] = Future()

        def check() -> None:  # after the child's steps, queued behind them
            finished.set_result(None)

        runtime.dispatcher.call_soon(check)
        finished.result(10)
        return child

    runtime = runtime_with(start_and_finish)
    try:
        done = runtime.run(PARENT, {}, timeout=10)
        kinds = [event["type"] for event in runtime.history(done)]
    finally:
        runtime.close()
    assert done.status == ExecutionStatus.SUCCEEDED
    assert done.output["Output"] == {"a": 1}
    assert kinds.count("TaskSubmitted") == 1
    assert kinds.index("TaskSubmitted") + 1 == kinds.index("TaskSucceeded")


def test_the_poll_finds_a_child_whose_end_message_was_lost() -> None:
    # Started without the parent's token, the child sends no end message at all.
    runtime = runtime_with(
        lambda runtime, request: on_loop(runtime, request, linked=False), time_scale=0.001
    )
    try:
        done = runtime.run(PARENT, {}, timeout=10)
    finally:
        runtime.close()
    assert done.status == ExecutionStatus.SUCCEEDED
    assert done.output["Status"] == "SUCCEEDED"
