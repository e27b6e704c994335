"""Wait states (spec: "Wait State"; AWS: "Wait workflow state").

Exactly one of Seconds, Timestamp, SecondsPath, TimestampPath says when the wait ends; the
`*Path` forms read the effective input (after InputPath). Timestamps are ISO-8601 extended
date-times with an offset, as RFC 3339 profiles them (uppercase T, Z or +hh:mm). Bad values
fail the state with States.Runtime and the texts AWS recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scheduler.asl.errors import ErrorName, StateRuntimeError
from scheduler.asl.interpreter import enter
from scheduler.asl.outcome import WaitUntil
from scheduler.asl.parse import load_definition
from scheduler.asl.scope import Scope
from scheduler.asl.wait import parse_timestamp

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()


def wait(body: dict[str, Any], data: Any) -> WaitUntil:
    state = {"Type": "Wait", "Next": "After", **body}
    machine = load_definition(
        {"StartAt": "W", "States": {"W": state, "After": {"Type": "Succeed"}}}
    )
    outcome = enter(machine.states["W"], Scope(data), NOW)
    assert isinstance(outcome, WaitUntil)
    return outcome


def failure(body: dict[str, Any], data: Any) -> str:
    with pytest.raises(StateRuntimeError) as caught:
        wait(body, data)
    assert caught.value.error == ErrorName.RUNTIME
    assert caught.value.cause is not None
    return caught.value.cause


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


# --- Seconds and Timestamp ----------------------------------------------------------------


def test_seconds_counts_from_the_time_it_is_handed() -> None:
    outcome = wait({"Seconds": 10}, {"a": 1})
    assert outcome == WaitUntil(NOW + 10, {"a": 1}, "After")


def test_zero_seconds_is_due_at_once() -> None:
    assert wait({"Seconds": 0}, {}).due == NOW


def test_timestamp_is_an_absolute_instant() -> None:
    assert wait({"Timestamp": "2024-05-02T00:00:00Z"}, {}).due == epoch("2024-05-02T00:00:00+00:00")


def test_timestamp_with_an_offset() -> None:
    due = wait({"Timestamp": "2024-05-02T02:00:00+02:00"}, {}).due
    assert due == epoch("2024-05-02T00:00:00+00:00")


def test_timestamp_in_the_past_is_already_due() -> None:
    # AWS recorded: waiting until 2016-03-14T01:59:00Z succeeds at once.
    assert wait({"Timestamp": "2016-03-14T01:59:00Z"}, {}).due < NOW


def test_timestamp_with_nanoseconds() -> None:
    # AWS recorded: "2016-03-05T21:29:29.243167252Z" is accepted.
    due = wait({"Timestamp": "2016-03-05T21:29:29.243167252Z"}, {}).due
    assert due == pytest.approx(epoch("2016-03-05T21:29:29.243167+00:00"), abs=1e-6)


# --- SecondsPath ----------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0, 1, 3600, 31_536_000])
def test_seconds_path_reads_an_integer(seconds: int) -> None:
    outcome = wait({"SecondsPath": "$.input.waitSeconds"}, {"input": {"waitSeconds": seconds}})
    assert outcome.due == NOW + seconds
    assert outcome.output == {"input": {"waitSeconds": seconds}}


def test_seconds_path_reads_the_input_path_selection() -> None:
    body = {"InputPath": "$.input", "SecondsPath": "$.waitSeconds"}
    outcome = wait(body, {"input": {"waitSeconds": 5}})
    assert outcome.due == NOW + 5
    assert outcome.output == {"waitSeconds": 5}


def test_seconds_path_negative_integer() -> None:
    cause = failure({"SecondsPath": "$.input.waitSeconds"}, {"input": {"waitSeconds": -1}})
    assert (
        cause == "The SecondsPath parameter references a negative value: $.input.waitSeconds == -1"
    )


@pytest.mark.parametrize(("value", "shown"), [(1.5, "1.5"), (-1.5, "-1.5")])
def test_seconds_path_fraction_is_not_a_long(value: float, shown: str) -> None:
    cause = failure({"SecondsPath": "$.input.waitSeconds"}, {"input": {"waitSeconds": value}})
    assert cause == (
        "The SecondsPath parameter cannot be parsed as a long value: "
        f"$.input.waitSeconds == {shown}"
    )


def test_seconds_path_object_is_not_a_long() -> None:
    cause = failure({"SecondsPath": "$.s"}, {"s": {"n": 1}})
    assert cause == 'The SecondsPath parameter cannot be parsed as a long value: $.s == {"n":1}'


def test_seconds_path_missing() -> None:
    cause = failure({"SecondsPath": "$.nope"}, {"other": 1})
    assert cause == "The SecondsPath parameter does not reference an input value: $.nope"


# --- TimestampPath --------------------------------------------------------------------------


def test_timestamp_path_reads_an_instant() -> None:
    outcome = wait(
        {"TimestampPath": "$.TimestampValue"}, {"TimestampValue": "2016-03-14T01:59:00Z"}
    )
    assert outcome.due == epoch("2016-03-14T01:59:00+00:00")
    assert outcome.output == {"TimestampValue": "2016-03-14T01:59:00Z"}


@pytest.mark.parametrize(
    "value",
    [
        "2016-13-05T21:29:29Z",  # AWS recorded: month 13
        "2016-12-05 21:29:29Z",  # AWS recorded: no T
        "2016-12-05T21:29:29",  # AWS recorded: no offset
        "2016-12-05T25:29:29Z",
        "2016-02-30T00:00:00Z",
        "05-12-2016T21:29:29Z",
        "20161205T212929Z",
        "2016-W49-1T21:29:29Z",
        "2016-12-05T21:29Z",
        "2016-12-05T21:29:29+01",
        "",
    ],
)
def test_timestamp_path_invalid_strings(value: str) -> None:
    cause = failure({"TimestampPath": "$.TimestampValue"}, {"TimestampValue": value})
    assert cause == (
        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
        f"date-time format string: $.TimestampValue == {value}"
    )


def test_timestamp_path_number_is_not_a_timestamp() -> None:
    cause = failure({"TimestampPath": "$.t"}, {"t": 1457920740})
    assert cause.endswith("date-time format string: $.t == 1457920740")


def test_timestamp_path_missing() -> None:
    cause = failure({"TimestampPath": "$.nope"}, {})
    assert cause == "The TimestampPath parameter does not reference an input value: $.nope"


# --- the timestamp grammar ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("2016-03-14T01:59:00Z", "2016-03-14T01:59:00+00:00"),
        ("2016-03-14T01:59:00.5Z", "2016-03-14T01:59:00.500+00:00"),
        ("2016-03-14T01:59:00-05:30", "2016-03-14T07:29:00+00:00"),
        ("2016-02-29T00:00:00Z", "2016-02-29T00:00:00+00:00"),
    ],
)
def test_parse_timestamp_accepts_rfc3339(text: str, same_as: str) -> None:
    assert parse_timestamp(text) == epoch(same_as)


@pytest.mark.parametrize("text", ["2016-03-14t01:59:00z", None, 5, "2016-03-14T01:59:00+24:00"])
def test_parse_timestamp_refuses_the_rest(text: Any) -> None:
    assert parse_timestamp(text) is None
