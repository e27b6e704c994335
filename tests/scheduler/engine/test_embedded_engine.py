"""Engine behaviour that only the embedded configuration can show exactly: delays on a
skipping clock, handlers that share state with the test, engine settings per test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from integrations.registry import HandlerRegistry
from scheduler.engine.engine import EngineSettings
from scheduler.engine.messages import Kind, Message
from scheduler.engine.records import ExecutionStatus
from scheduler.runtime import EmbeddedRuntime
from tests.scheduler.engine.conftest import lambda_arn
from tests.scheduler.engine.test_engine import chain, types


@pytest.fixture
def runtime(embedded: EmbeddedRuntime) -> Iterator[EmbeddedRuntime]:
    """Embedded only, on a skipping clock."""
    yield embedded


def flaky(failures: int) -> tuple[Any, list[int]]:
    calls: list[int] = []

    def handler(event: Any, ctx: Any) -> Any:
        calls.append(1)
        if len(calls) <= failures:
            raise TimeoutError("try again")
        return {"attempts": len(calls)}

    return handler, calls


def retried_task(retrier: dict[str, Any]) -> dict[str, Any]:
    """One Task calling the `flaky` handler, retried by `retrier`."""
    task = {"Type": "Task", "Resource": lambda_arn("flaky"), "End": True, "Retry": [retrier]}
    return {"StartAt": "T", "States": {"T": task}}


def test_retry_backs_off_exponentially_then_succeeds(
    runtime: EmbeddedRuntime, handlers: HandlerRegistry
) -> None:
    handler, calls = flaky(3)
    handlers.register("flaky", handler)
    retrier = {"ErrorEquals": ["TimeoutError"], "IntervalSeconds": 2, "BackoffRate": 3,
               "MaxAttempts": 5}
    record = runtime.run(retried_task(retrier), {})
    assert record.status == ExecutionStatus.SUCCEEDED and record.output == {"attempts": 4}
    events = runtime.history(record)
    scheduled = [e["timestamp"] for e in events if e["type"] == "LambdaFunctionScheduled"]
    gaps = [round(b - a, 6) for a, b in zip(scheduled, scheduled[1:], strict=False)]
    assert gaps == [2.0, 6.0, 18.0]
    assert [e["type"] for e in events].count("LambdaFunctionFailed") == 3


def test_retry_delay_is_capped_by_max_delay_seconds(
    runtime: EmbeddedRuntime, handlers: HandlerRegistry
) -> None:
    handler, _ = flaky(3)
    handlers.register("flaky", handler)
    retrier = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 10,
               "MaxDelaySeconds": 50, "MaxAttempts": 3}
    events = runtime.history(runtime.run(retried_task(retrier), {}))
    scheduled = [e["timestamp"] for e in events if e["type"] == "LambdaFunctionScheduled"]
    assert [round(b - a) for a, b in zip(scheduled, scheduled[1:], strict=False)] == [10, 50, 50]


def test_exhausted_retries_fall_through_to_catch_with_error_output(
    runtime: EmbeddedRuntime, handlers: HandlerRegistry
) -> None:
    handler, calls = flaky(99)
    handlers.register("flaky", handler)
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("flaky"),
                "End": True,
                "Retry": [{"ErrorEquals": ["TimeoutError"], "MaxAttempts": 2}],
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Recover"}
                ],
            },
            "Recover": {"Type": "Pass", "End": True},
        },
    }
    record = runtime.run(definition, {"order": 7})
    assert len(calls) == 3
    assert record.status == ExecutionStatus.SUCCEEDED
    assert record.output["order"] == 7
    assert record.output["failure"]["Error"] == "TimeoutError"


def test_retry_count_is_visible_in_the_context_object(
    runtime: EmbeddedRuntime, handlers: HandlerRegistry
) -> None:
    seen: list[int] = []

    def handler(event: Any, ctx: Any) -> Any:
        seen.append(event["retry"])
        if len(seen) < 3:
            raise RuntimeError("again")
        return "ok"

    handlers.register("h", handler)
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("h"),
                "End": True,
                "Parameters": {"retry.$": "$$.State.RetryCount"},
                "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}],
            }
        },
    }
    assert runtime.run(definition, {}).output == "ok"
    assert seen == [0, 1, 2]


def test_task_timeout_raises_states_timeout() -> None:
    handlers = HandlerRegistry()
    release = threading.Event()
    handlers.register("slow", lambda event, ctx: release.wait(5))
    runtime = EmbeddedRuntime(handlers, settings=EngineSettings(time_scale=0.02))
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("slow"),
                "TimeoutSeconds": 2,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}],
                "End": True,
            },
            "TimedOut": {"Type": "Pass", "Result": "timed out", "End": True},
        },
    }
    try:
        started = time.monotonic()
        record = runtime.run(definition, {})
        elapsed = time.monotonic() - started
    finally:
        release.set()
        runtime.close()
    assert record.output == "timed out"
    assert elapsed < 2  # the 2 s timeout, scaled by 0.02, fired long before the handler ended
    assert "LambdaFunctionTimedOut" in types(runtime, record)


def test_wait_state_waits_the_given_seconds(runtime: EmbeddedRuntime) -> None:
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "P"},
            "P": {"Type": "Pass", "End": True},
        },
    }
    record = runtime.run(definition, {"delay": 90})
    events = runtime.history(record)
    entered = next(e for e in events if e["type"] == "WaitStateEntered")["timestamp"]
    exited = next(e for e in events if e["type"] == "WaitStateExited")["timestamp"]
    assert exited - entered == pytest.approx(90)


def test_map_honours_max_concurrency(handlers: HandlerRegistry) -> None:
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def work(event: Any, ctx: Any) -> Any:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return event * 10

    handlers.register("work", work)
    runtime = EmbeddedRuntime(handlers)
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 3,
                "End": True,
                "ItemProcessor": {
                    "StartAt": "W",
                    "States": {"W": {"Type": "Task", "Resource": lambda_arn("work"), "End": True}},
                },
            }
        },
    }
    try:
        record = runtime.run(definition, list(range(12)))
    finally:
        runtime.close()
    assert record.output == [i * 10 for i in range(12)]
    assert peak[0] == 3


def test_stop_execution_aborts_and_later_steps_change_nothing(runtime: EmbeddedRuntime) -> None:
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    record = runtime.start(definition, {})
    runtime.engine.stop_execution(record.arn, error="Manual", cause="operator")
    final = runtime.wait(record)
    assert final.status == ExecutionStatus.ABORTED
    assert types(runtime, final)[-1] == "ExecutionAborted"
    assert "WaitStateExited" not in types(runtime, final)


def test_output_over_the_payload_limit_fails_with_data_limit_exceeded() -> None:
    runtime = EmbeddedRuntime(settings=EngineSettings(max_payload_bytes=1024))
    definition = {
        "StartAt": "Big",
        "States": {"Big": {"Type": "Pass", "Result": "x" * 2000, "End": True}},
    }
    record = runtime.run(definition, {})
    assert record.status == ExecutionStatus.FAILED
    assert record.error == "States.DataLimitExceeded"
    assert "'Big'" in (record.cause or "")


@pytest.mark.parametrize(("text", "fails"), [("é" * 511, False), ("é" * 511 + "x", True)])
def test_the_payload_limit_counts_utf8_bytes_of_compact_json(text: str, fails: bool) -> None:
    # '"' + 511 two-byte characters + '"' is exactly the 1024-byte limit; one more byte fails.
    runtime = EmbeddedRuntime(settings=EngineSettings(max_payload_bytes=1024))
    big = {"Type": "Pass", "Result": text, "End": True}
    record = runtime.run({"StartAt": "Big", "States": {"Big": big}}, {})
    runtime.close()
    if fails:
        assert record.status == ExecutionStatus.FAILED
        assert record.error == "States.DataLimitExceeded"
    else:
        assert record.status == ExecutionStatus.SUCCEEDED
        assert record.output == text


def test_a_duplicated_step_message_changes_nothing(runtime: EmbeddedRuntime) -> None:
    record = runtime.start(chain(3), {})
    duplicate = Message(record.arn, "0", 0, Kind.ENTER)
    runtime.dispatcher.send(duplicate)  # the same ENTER the start already queued
    final = runtime.wait(record)
    before = runtime.history(final)
    runtime.engine.handle(duplicate)  # and once more after the end
    assert runtime.history(final) == before
    assert [e["type"] for e in before].count("PassStateEntered") == 3


def test_long_pure_loop_yields_between_steps_and_finishes() -> None:
    runtime = EmbeddedRuntime(settings=EngineSettings(inline_budget=50))
    definition = {
        "StartAt": "Inc",
        "States": {
            "Inc": {
                "Type": "Pass",
                "Parameters": {"i.$": "States.MathAdd($.i, 1)"},
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.i", "NumericLessThan": 300, "Next": "Inc"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    record = runtime.run(definition, {"i": 0})
    assert record.output == {"i": 300}
    assert record.transitions == 601


def test_input_over_the_payload_limit_is_refused_and_nothing_starts() -> None:
    from scheduler.engine.engine import InvalidExecutionInput

    runtime = EmbeddedRuntime(settings=EngineSettings(max_payload_bytes=100))
    with pytest.raises(InvalidExecutionInput, match="over the 100-byte payload limit"):
        runtime.start(chain(2), {"blob": "x" * 200})
    assert runtime.store.list_executions() == []


def test_past_keep_finished_the_oldest_ended_executions_are_forgotten() -> None:
    """A long-running embedded server keeps its memory bounded; running executions and
    the newest ended ones stay, as AWS keeps the newest within its retention."""
    runtime = EmbeddedRuntime(settings=EngineSettings(keep_finished=3))
    try:
        waiting = runtime.start({"StartAt": "W", "States": {"W": {"Type": "Wait",
                                                                   "Seconds": 600, "End": True}}})
        ended = [runtime.run(chain(2), {"n": n}) for n in range(5)]
        assert [runtime.store.get_execution(r.arn) is None for r in ended] == [
            True, True, False, False, False]
        assert runtime.store.history(ended[0].arn) == []
        assert runtime.store.get_execution(waiting.arn) is not None
        listed = [r.arn for r in runtime.store.list_executions()]
        assert listed == [*[r.arn for r in reversed(ended[2:])], waiting.arn]
    finally:
        runtime.close()


def test_keep_finished_zero_keeps_every_execution() -> None:
    runtime = EmbeddedRuntime(settings=EngineSettings(keep_finished=0))
    try:
        ended = [runtime.run(chain(2), {"n": n}) for n in range(5)]
        assert all(runtime.store.get_execution(r.arn) is not None for r in ended)
    finally:
        runtime.close()
