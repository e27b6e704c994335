"""Retry and Catch (spec: "Errors", "Retrying after error", "Fallback states"; AWS: "Handling
errors in Step Functions workflows").

A retrier waits IntervalSeconds * BackoffRate^n before retry n+1 (capped by MaxDelaySeconds,
randomised between 0 and that by JitterStrategy FULL), for at most MaxAttempts retries; only
the first retrier whose ErrorEquals matches counts. Then the first matching catcher wins,
putting `{"Error", "Cause"}` into the raw input at its ResultPath.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scheduler.asl.errors import ErrorName, StatesError
from scheduler.asl.interpreter import handle_error
from scheduler.asl.model import Jitter, Retrier
from scheduler.asl.outcome import Caught, Failure, RetryAfter
from scheduler.asl.parse import load_definition
from scheduler.asl.retry import error_matches, error_output, find_catcher, find_retry, retry_delay
from scheduler.asl.scope import Scope

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"


def no_random() -> float:
    raise AssertionError("random() must not be called without JitterStrategy FULL")


# --- which errors a name list matches ------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        "Exception",
        "Lambda.ServiceException",
        ErrorName.TIMEOUT,
        ErrorName.TASK_FAILED,
        ErrorName.PERMISSIONS,
        ErrorName.HEARTBEAT_TIMEOUT,
        ErrorName.BRANCH_FAILED,
        ErrorName.RESULT_PATH_MATCH_FAILURE,
        ErrorName.INTRINSIC_FAILURE,
        # AWS recorded: a States.ALL catcher catches States.DataLimitExceeded on a result.
        ErrorName.DATA_LIMIT_EXCEEDED,
    ],
)
def test_states_all_matches_every_error_but_runtime(error: str) -> None:
    assert error_matches(["States.ALL"], error)


def test_states_runtime_is_never_matched_even_when_named() -> None:
    # AWS recorded: Catch ["States.Runtime"] does not catch a States.Runtime failure.
    assert not error_matches(["States.ALL"], ErrorName.RUNTIME)
    assert not error_matches(["States.Runtime"], ErrorName.RUNTIME)
    assert not error_matches(["States.TaskFailed"], ErrorName.RUNTIME)


def test_task_failed_matches_any_error_except_timeout() -> None:
    assert error_matches(["States.TaskFailed"], "Exception")
    assert error_matches(["States.TaskFailed"], ErrorName.TASK_FAILED)
    assert error_matches(["States.TaskFailed"], ErrorName.PERMISSIONS)
    assert not error_matches(["States.TaskFailed"], ErrorName.TIMEOUT)


def test_timeout_is_matched_by_its_own_name() -> None:
    assert error_matches(["States.TaskFailed", "States.Timeout"], ErrorName.TIMEOUT)


def test_error_names_match_exactly_and_case_sensitively() -> None:
    assert error_matches(["CustomError", "Other"], "Other")
    assert not error_matches(["CustomError"], "customerror")
    assert not error_matches(["CustomError"], "CustomErrorX")
    assert not error_matches(["states.all"], "Exception")
    assert not error_matches([], "Exception")


# --- back-off ------------------------------------------------------------------------------


def test_delays_grow_by_backoff_rate() -> None:
    retrier = Retrier(("E",), interval_seconds=3, max_attempts=5, backoff_rate=2.0)
    assert [retry_delay(retrier, n, no_random) for n in range(4)] == [3.0, 6.0, 12.0, 24.0]


def test_backoff_rate_one_keeps_the_interval() -> None:
    retrier = Retrier(("E",), interval_seconds=2, backoff_rate=1.0)
    assert [retry_delay(retrier, n, no_random) for n in range(3)] == [2.0, 2.0, 2.0]


def test_fractional_backoff_rate() -> None:
    retrier = Retrier(("E",), interval_seconds=2, backoff_rate=1.5)
    assert [retry_delay(retrier, n, no_random) for n in range(3)] == [2.0, 3.0, 4.5]


def test_max_delay_seconds_caps_the_growth() -> None:
    retrier = Retrier(("E",), interval_seconds=1, backoff_rate=2.0, max_delay_seconds=5)
    assert [retry_delay(retrier, n, no_random) for n in range(6)] == [1, 2, 4, 5, 5, 5]


@pytest.mark.parametrize("rate", [2, 2.0])
def test_thousands_of_capped_retries_keep_the_cap(rate: float) -> None:
    # "Retry for ever, at most a minute apart": 2^1100 must not overflow.
    retrier = Retrier(("E",), max_attempts=99_999_999, backoff_rate=rate, max_delay_seconds=60)
    assert retry_delay(retrier, 1100, no_random) == 60.0
    jittered = Retrier(
        ("E",), backoff_rate=rate, max_delay_seconds=60, jitter=Jitter.FULL, max_attempts=10**8
    )
    assert retry_delay(jittered, 99_999_998, lambda: 0.5) == 30.0


def test_uncapped_growth_stops_at_the_longest_delay_asl_allows() -> None:
    retrier = Retrier(("E",), max_attempts=99_999_999, backoff_rate=2.0)
    assert retry_delay(retrier, 5000, no_random) == 31_622_400.0


@pytest.mark.parametrize(("drawn", "expected"), [(0.0, 0.0), (0.5, 2.5), (0.25, 1.25)])
def test_full_jitter_scales_the_capped_delay_by_the_random_draw(
    drawn: float, expected: float
) -> None:
    retrier = Retrier(
        ("E",), interval_seconds=3, backoff_rate=2.0, max_delay_seconds=5, jitter=Jitter.FULL
    )
    # Attempt 2 would be 12 s; capped at 5, then anywhere between 0 and 5.
    assert retry_delay(retrier, 2, lambda: drawn) == expected


def test_full_jitter_never_exceeds_the_computed_delay() -> None:
    retrier = Retrier(("E",), interval_seconds=4, backoff_rate=2.0, jitter=Jitter.FULL)
    assert 0 <= retry_delay(retrier, 1, lambda: 0.999999) <= 8


# --- choosing a retrier -------------------------------------------------------------------


def test_first_matching_retrier_with_attempts_left_gives_its_index_and_delay() -> None:
    retriers = (Retrier(("Other",)), Retrier(("E",), interval_seconds=5))
    assert find_retry(retriers, "E", [], no_random) == (1, 5.0)
    assert find_retry(retriers, "E", [0, 2], no_random) == (1, 20.0)


def test_exhausted_first_match_does_not_fall_through_to_a_later_retrier() -> None:
    retriers = (Retrier(("E",), max_attempts=1), Retrier(("States.ALL",), max_attempts=10))
    assert find_retry(retriers, "E", [0], no_random) == (0, 1.0)
    assert find_retry(retriers, "E", [1], no_random) is None
    assert find_retry(retriers, "Else", [1], no_random) == (1, 1.0)


def test_max_attempts_zero_never_retries() -> None:
    retriers = (Retrier(("States.ALL",), max_attempts=0),)
    assert find_retry(retriers, "Exception", [], no_random) is None


def test_runtime_errors_are_never_retried() -> None:
    assert find_retry((Retrier(("States.ALL",)),), ErrorName.RUNTIME, [], no_random) is None


def test_no_matching_retrier() -> None:
    assert find_retry((Retrier(("A",)), Retrier(("B",))), "C", [], no_random) is None


# --- choosing a catcher -------------------------------------------------------------------


def catchers(*specs: tuple[list[str], str]) -> Any:
    machine = load_definition(
        {
            "StartAt": "S",
            "States": {
                "S": {
                    "Type": "Task",
                    "Resource": LAMBDA,
                    "End": True,
                    "Catch": [{"ErrorEquals": e, "Next": n} for e, n in specs],
                },
                **{n: {"Type": "Succeed"} for _, n in specs},
            },
        }
    )
    return machine.states["S"].catch  # type: ignore[union-attr]


def test_catchers_are_tried_in_order() -> None:
    found = catchers((["A"], "OnA"), (["States.TaskFailed"], "OnTask"), (["States.ALL"], "OnAll"))

    def target(error: str) -> str | None:
        catcher = find_catcher(found, error)
        return catcher.next if catcher is not None else None

    assert target("A") == "OnA"
    assert target("B") == "OnTask"
    assert target("States.Timeout") == "OnAll"
    assert target(ErrorName.RUNTIME) is None


def test_error_output_is_error_and_cause() -> None:
    assert error_output("E", "why") == {"Error": "E", "Cause": "why"}


# --- handle_error, end to end --------------------------------------------------------------


def task_state(retry: list[Any] | None = None, catch: list[Any] | None = None) -> Any:
    body: dict[str, Any] = {"Type": "Task", "Resource": LAMBDA, "End": True}
    states: dict[str, Any] = {"S": body}
    if retry is not None:
        body["Retry"] = retry
    if catch is not None:
        body["Catch"] = catch
        for catcher in catch:
            states[catcher["Next"]] = {"Type": "Pass", "End": True}
    return load_definition({"StartAt": "S", "States": states}).states["S"]


def decide(state: Any, error: str, cause: str | None, attempts: list[int], data: Any) -> Any:
    return handle_error(state, Scope(data), StatesError(error, cause), attempts, no_random)


def test_default_retrier_waits_1_2_4_seconds_then_gives_up() -> None:
    state = task_state(retry=[{"ErrorEquals": ["States.ALL"]}])
    delays = [decide(state, "E", None, [n], {}) for n in range(3)]
    assert delays == [RetryAfter(1.0, 0), RetryAfter(2.0, 0), RetryAfter(4.0, 0)]
    assert decide(state, "E", "c", [3], {}) == Failure("E", "c")


def test_recorded_jitter_none_retrier_delays() -> None:
    # AWS recorded retrier: IntervalSeconds 1, BackoffRate 1, MaxAttempts 2, MaxDelaySeconds 3.
    retrier = {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 1,
        "BackoffRate": 1,
        "MaxAttempts": 2,
        "MaxDelaySeconds": 3,
        "JitterStrategy": "NONE",
    }
    state = task_state(retry=[retrier])
    assert decide(state, "Exception", None, [0], {}) == RetryAfter(1.0, 0)
    assert decide(state, "Exception", None, [1], {}) == RetryAfter(1.0, 0)
    assert decide(state, "Exception", "boom", [2], {}) == Failure("Exception", "boom")


def test_full_jitter_uses_the_injected_random() -> None:
    retrier = {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 4,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    }
    state = task_state(retry=[retrier])
    decision = handle_error(state, Scope({}), StatesError("E"), [1], lambda: 0.25)
    assert decision == RetryAfter(2.0, 0)


def test_caught_error_replaces_the_input_by_default() -> None:
    state = task_state(catch=[{"ErrorEquals": ["States.ALL"], "Next": "Recover"}])
    decision = decide(state, "HandleItemFailError", "HandleItemFailCause", [], {"in": 1})
    assert decision == Caught(
        {"Error": "HandleItemFailError", "Cause": "HandleItemFailCause"}, "Recover"
    )


def test_caught_error_placed_at_result_path_in_the_raw_input() -> None:
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Recover", "ResultPath": "$.error-info"}]
    state = task_state(catch=catch)
    decision = decide(state, "CustomError", "This is a custom error!", [], {"foo": "bar"})
    assert decision == Caught(
        {"foo": "bar", "error-info": {"Error": "CustomError", "Cause": "This is a custom error!"}},
        "Recover",
    )


def test_caught_error_with_null_result_path_keeps_the_raw_input() -> None:
    catch = [{"ErrorEquals": ["E"], "Next": "Recover", "ResultPath": None}]
    assert decide(task_state(catch=catch), "E", "c", [], {"a": 1}) == Caught({"a": 1}, "Recover")


def test_error_cause_that_is_json_text_is_passed_as_text() -> None:
    cause = json.dumps({"errorMessage": "boom", "errorType": "Exception"})
    state = task_state(catch=[{"ErrorEquals": ["Exception"], "Next": "Recover"}])
    decision = decide(state, "Exception", cause, [], {})
    assert isinstance(decision, Caught)
    assert decision.output == {"Error": "Exception", "Cause": cause}


def test_retry_comes_before_catch_and_catch_after_retries_run_out() -> None:
    state = task_state(
        retry=[{"ErrorEquals": ["E"], "MaxAttempts": 1}],
        catch=[{"ErrorEquals": ["E"], "Next": "Recover"}],
    )
    assert decide(state, "E", None, [0], {}) == RetryAfter(1.0, 0)
    assert isinstance(decide(state, "E", None, [1], {}), Caught)


def test_an_error_no_retrier_matches_goes_straight_to_catch() -> None:
    state = task_state(
        retry=[{"ErrorEquals": ["Transient"]}],
        catch=[{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
    )
    assert isinstance(decide(state, "Permanent", None, [], {}), Caught)


def test_uncaught_error_fails_with_its_name_and_cause() -> None:
    state = task_state(catch=[{"ErrorEquals": ["Other"], "Next": "Recover"}])
    assert decide(state, "Exception", "boom", [], {}) == Failure("Exception", "boom")


def test_runtime_errors_are_neither_retried_nor_caught() -> None:
    state = task_state(
        retry=[{"ErrorEquals": ["States.ALL"]}],
        catch=[{"ErrorEquals": ["States.Runtime"], "Next": "Recover"}],
    )
    assert decide(state, ErrorName.RUNTIME, "Invalid path", [], {}) == Failure(
        ErrorName.RUNTIME, "Invalid path"
    )


def test_task_failed_retrier_does_not_retry_a_timeout() -> None:
    state = task_state(
        retry=[{"ErrorEquals": ["States.TaskFailed"]}],
        catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Recover"}],
    )
    assert decide(state, ErrorName.TIMEOUT, None, [], {}) == Caught(
        {"Error": "States.Timeout"}, "Recover"
    )


def test_catcher_result_path_that_cannot_apply_fails_the_state() -> None:
    catch = [{"ErrorEquals": ["E"], "Next": "Recover", "ResultPath": "$.err"}]
    decision = decide(task_state(catch=catch), "E", "c", [], "a string input")
    assert isinstance(decision, Failure)
    assert decision.error == ErrorName.RESULT_PATH_MATCH_FAILURE


def test_states_without_retry_or_catch_just_fail() -> None:
    machine = load_definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    decision = handle_error(machine.states["P"], Scope({}), StatesError("E", "c"), [], no_random)
    assert decision == Failure("E", "c")
