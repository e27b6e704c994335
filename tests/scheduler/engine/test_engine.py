"""Engine behaviour, on both configurations (embedded; Redis + Celery workers)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scheduler.asl.parse import DefinitionError
from scheduler.engine.records import ExecutionStatus
from tests.scheduler.engine.conftest import lambda_arn


def chain(n: int) -> dict[str, Any]:
    states: dict[str, Any] = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(n - 1)}
    states[f"S{n - 1}"] = {
        "Type": "Pass",
        "Result": {"done": True},
        "ResultPath": "$.r",
        "End": True,
    }
    return {"StartAt": "S0", "States": states}


def types(runtime: Any, record: Any) -> list[str]:
    return [e["type"] for e in runtime.history(record)]


def test_pass_chain_runs_to_the_end_with_one_entered_and_exited_event_per_state(
    runtime: Any,
) -> None:
    record = runtime.run(chain(50), {"n": 1})
    assert record.status == ExecutionStatus.SUCCEEDED
    assert record.output == {"n": 1, "r": {"done": True}}
    kinds = types(runtime, record)
    assert kinds.count("PassStateEntered") == 50 and kinds.count("PassStateExited") == 50
    assert kinds[0] == "ExecutionStarted" and kinds[-1] == "ExecutionSucceeded"
    assert record.transitions == 50


def test_history_ids_are_consecutive_and_chained(runtime: Any) -> None:
    events = runtime.history(runtime.run(chain(3), {}))
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    # AWS: the first state's Entered event points at 0, later events at their predecessor.
    assert events[1]["previousEventId"] == 0
    assert [e["previousEventId"] for e in events[2:]] == [e["id"] for e in events[1:-1]]
    assert json.loads(events[1]["stateEnteredEventDetails"]["input"]) == {}


def test_invalid_definition_is_refused_with_every_problem(runtime: Any) -> None:
    bad = {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Bogus"}},
    }
    with pytest.raises(DefinitionError) as caught:
        runtime.run(bad, {})
    locations = {d.location for d in caught.value.diagnostics}
    assert "/States/A/Next" in locations
    assert any(loc.startswith("/States/B") for loc in locations)


def test_wait_timestamp_in_the_past_continues_at_once(runtime: Any) -> None:
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Timestamp": "2001-01-01T00:00:00Z", "End": True}},
    }
    record = runtime.run(definition, {"x": 1})
    assert record.output == {"x": 1}
    assert types(runtime, record)[1:3] == ["WaitStateEntered", "WaitStateExited"]


def test_parallel_outputs_are_in_branch_order(runtime: Any) -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "Slow",
                        "States": {
                            "Slow": {"Type": "Wait", "Seconds": 5, "Next": "A"},
                            "A": {"Type": "Pass", "Result": "first", "End": True},
                        },
                    },
                    {
                        "StartAt": "B",
                        "States": {"B": {"Type": "Pass", "Result": "second", "End": True}},
                    },
                ],
            }
        },
    }
    record = runtime.run(definition, {})
    assert record.output == ["first", "second"]
    assert "ParallelStateSucceeded" in types(runtime, record)


def test_failed_branch_fails_the_parallel_and_stops_the_others(runtime: Any) -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "Long",
                        "States": {
                            "Long": {"Type": "Wait", "Seconds": 3600, "Next": "Late"},
                            "Late": {"Type": "Pass", "End": True},
                        },
                    },
                    {
                        "StartAt": "Boom",
                        "States": {"Boom": {"Type": "Fail", "Error": "Boom", "Cause": "branch 2"}},
                    },
                ],
            }
        },
    }
    record = runtime.run(definition, {})
    assert record.status == ExecutionStatus.FAILED
    assert (record.error, record.cause) == ("Boom", "branch 2")
    kinds = types(runtime, record)
    assert "WaitStateExited" not in kinds and kinds[-2:] == [
        "ParallelStateFailed",
        "ExecutionFailed",
    ]


def test_map_item_selector_sees_index_and_value(runtime: Any) -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "End": True,
                "ItemSelector": {
                    "i.$": "$$.Map.Item.Index",
                    "v.$": "$$.Map.Item.Value",
                    "tag.$": "$.tag",
                },
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            }
        },
    }
    record = runtime.run(definition, {"items": ["a", "b"], "tag": "t"})
    assert record.output == [{"i": 0, "v": "a", "tag": "t"}, {"i": 1, "v": "b", "tag": "t"}]


def test_map_of_nothing_succeeds_with_an_empty_array(runtime: Any) -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            }
        },
    }
    assert runtime.run(definition, []).output == []


def tolerant_map(count: int) -> dict[str, Any]:
    return {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ToleratedFailureCount": count,
                "End": True,
                "ItemProcessor": {
                    "StartAt": "C",
                    "States": {
                        "C": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "Bad"}],
                            "Default": "Ok",
                        },
                        "Bad": {"Type": "Fail", "Error": "ItemFailed"},
                        "Ok": {"Type": "Pass", "End": True},
                    },
                },
            }
        },
    }


def test_map_tolerates_failures_up_to_the_count(runtime: Any) -> None:
    record = runtime.run(tolerant_map(2), [1, 0, 2, 0])
    assert record.status == ExecutionStatus.SUCCEEDED
    assert record.output[0] == 1 and record.output[1]["Error"] == "ItemFailed"


def test_map_fails_past_the_tolerated_count(runtime: Any) -> None:
    record = runtime.run(tolerant_map(1), [0, 1, 0])
    assert record.status == ExecutionStatus.FAILED
    assert record.error == "States.ExceedToleratedFailureThreshold"


def test_execution_timeout_times_the_execution_out(runtime: Any) -> None:
    definition = {
        "TimeoutSeconds": 10,
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}},
    }
    record = runtime.run(definition, {})
    assert record.status == ExecutionStatus.TIMED_OUT
    assert record.error == "States.Timeout"
    assert types(runtime, record)[-1] == "ExecutionTimedOut"
    assert record.stop_date is not None and record.stop_date > record.start_date


def test_states_runtime_error_names_the_state_and_its_entered_event(
    runtime: Any,
) -> None:
    definition = {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "Second"},
            "Second": {"Type": "Pass", "InputPath": "$.missing", "End": True},
        },
    }
    record = runtime.run(definition, {})
    assert record.error == "States.Runtime"
    assert record.cause == (
        "An error occurred while executing the state 'Second' (entered at the event id #4). "
        "Invalid path '$.missing' : No results for path: $['missing']"
    )


def test_task_calls_the_handler_and_records_lambda_events(runtime: Any) -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("double"),
                "ResultPath": "$.out",
                "End": True,
            }
        },
    }
    record = runtime.run(definition, {"value": 21})
    assert record.output == {"value": 21, "out": {"value": 42}}
    assert types(runtime, record) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_handler_exception_is_the_error_named_by_its_class(runtime: Any) -> None:
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": lambda_arn("decline"), "End": True}},
    }
    record = runtime.run(definition, {})
    assert record.status == ExecutionStatus.FAILED
    assert record.error == "PaymentDeclined"
    cause = json.loads(record.cause or "")
    assert cause["errorMessage"] == "card expired" and cause["errorType"] == "PaymentDeclined"


def retrying(succeed_at: int, max_attempts: int) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("fail_until"),
                "End": True,
                "Parameters": {"retry.$": "$$.State.RetryCount", "succeed_at": succeed_at},
                "Retry": [
                    {
                        "ErrorEquals": ["TimeoutError"],
                        "IntervalSeconds": 1,
                        "BackoffRate": 2,
                        "MaxAttempts": max_attempts,
                    }
                ],
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Recover"}
                ],
            },
            "Recover": {"Type": "Pass", "End": True},
        },
    }


def test_retry_until_the_handler_succeeds(runtime: Any) -> None:
    record = runtime.run(retrying(succeed_at=3, max_attempts=5), {})
    assert record.output == {"attempts": 4}
    kinds = types(runtime, record)
    assert kinds.count("LambdaFunctionFailed") == 3
    assert kinds.count("LambdaFunctionScheduled") == 4
    assert kinds.count("TaskStateEntered") == 1


def test_exhausted_retries_go_to_catch(runtime: Any) -> None:
    record = runtime.run(retrying(succeed_at=9, max_attempts=2), {"order": 7})
    assert record.status == ExecutionStatus.SUCCEEDED
    assert record.output["order"] == 7
    assert record.output["failure"]["Error"] == "TimeoutError"
    assert types(runtime, record).count("LambdaFunctionScheduled") == 3


def test_map_of_tasks_applies_every_outcome_once_in_item_order(runtime: Any) -> None:
    """Enough items for several batches of task calls; every tenth declines and is caught."""
    processor = {
        "StartAt": "Pick",
        "States": {
            "Pick": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.bad", "BooleanEquals": True, "Next": "Decline"}],
                "Default": "Times",
            },
            "Decline": {
                "Type": "Task",
                "Resource": lambda_arn("decline"),
                "Catch": [{"ErrorEquals": ["PaymentDeclined"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "Parameters": {"caught.$": "$.Error"}, "End": True},
            "Times": {
                "Type": "Task",
                "Resource": lambda_arn("times_ten"),
                "InputPath": "$.n",
                "End": True,
            },
        },
    }
    definition = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemProcessor": processor, "End": True}},
    }
    items = [{"n": n, "bad": n % 10 == 0} for n in range(75)]
    record = runtime.run(definition, items)
    assert record.status == ExecutionStatus.SUCCEEDED
    assert record.output == [
        {"caught": "PaymentDeclined"} if n % 10 == 0 else n * 10 for n in range(75)
    ]
    types = [event["type"] for event in runtime.history(record)]
    assert types.count("LambdaFunctionSucceeded") == 67
    assert types.count("LambdaFunctionFailed") == 8
    assert types.count("MapIterationSucceeded") == 75


def test_map_runs_at_most_max_concurrency_items_at_once(runtime: Any) -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 3,
                "End": True,
                "ItemProcessor": {
                    "StartAt": "W",
                    "States": {
                        "W": {"Type": "Task", "Resource": lambda_arn("times_ten"), "End": True}
                    },
                },
            }
        },
    }
    record = runtime.run(definition, list(range(12)))
    assert record.output == [i * 10 for i in range(12)]
    running = peak = 0
    for event in runtime.history(record):
        if event["type"] == "MapIterationStarted":
            running += 1
            peak = max(peak, running)
        elif event["type"] in ("MapIterationSucceeded", "MapIterationFailed"):
            running -= 1
    # Never more than MaxConcurrency; how many overlap depends on timing across workers
    # (the embedded test of the same Map checks that exactly 3 run at once).
    assert 1 <= peak <= 3


def test_stop_execution_aborts_and_later_steps_change_nothing(runtime: Any) -> None:
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    record = runtime.start(definition, {})
    runtime.engine.stop_execution(record.arn, error="Manual", cause="operator")
    final = runtime.wait(record)
    assert final.status == ExecutionStatus.ABORTED
    assert (final.error, final.cause) == ("Manual", "operator")
    assert types(runtime, final)[-1] == "ExecutionAborted"
    assert "WaitStateExited" not in types(runtime, final)
