"""Wait state timing: when a Wait ends, from Seconds, Timestamp, their Path forms, or (in
JSONata) a Seconds or Timestamp expression."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from scheduler.asl.errors import QueryEvaluationError, StateRuntimeError
from scheduler.asl.model import WaitState
from scheduler.asl.paths import PathNotFound
from scheduler.asl.payload import to_json
from scheduler.asl.scope import Scope

# RFC 3339 as ASL restricts it: uppercase T and Z, seconds required, any fraction digits.
# (Python's `fromisoformat` alone also takes basic and week dates, `+hh` offsets and more.)
_TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


def parse_timestamp(text: Any) -> float | None:
    """Epoch seconds of an ISO-8601 extended date-time with an offset, else None."""
    match = _TIMESTAMP.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    base, fraction, offset = match.groups()
    try:
        moment = datetime.fromisoformat(base + ("+00:00" if offset == "Z" else offset))
    except ValueError:
        return None
    return moment.timestamp() + (float("0" + fraction) if fraction else 0.0)


#: The longest Wait, in seconds (as validation allows for a literal).
MAX_WAIT_SECONDS = 99999999


def _expression_due(state: WaitState, scope: Scope, now: float) -> float:
    """A JSONata Seconds or Timestamp: evaluated, then checked as AWS checks them."""
    if state.seconds_expr is not None:
        seconds = state.seconds_expr(scope)
        if not 0 <= seconds <= MAX_WAIT_SECONDS:
            raise QueryEvaluationError(
                f"The Seconds field must be an integer from 0 to {MAX_WAIT_SECONDS}, "
                f"but was: {seconds}",
                "Seconds",
            )
        return now + int(seconds)
    assert state.timestamp_expr is not None
    value = state.timestamp_expr(scope)
    due = parse_timestamp(value)
    if due is None:
        raise QueryEvaluationError(
            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
            f"format string: {_show(value)}",
            "Timestamp",
        )
    return due


def wait_due(state: WaitState, scope: Scope, now: float) -> float:
    """Epoch seconds at which the Wait ends; `scope.input` is the effective input."""
    if state.seconds_expr is not None or state.timestamp_expr is not None:
        return _expression_due(state, scope, now)
    if state.seconds is not None:
        return now + state.seconds
    if state.timestamp is not None:
        due = parse_timestamp(state.timestamp)
        return now if due is None else due
    if state.seconds_path is not None:
        return now + _seconds_from_path(state, scope)
    assert state.timestamp_path is not None
    path = state.timestamp_path
    value = _read(scope, path.text, "TimestampPath", path)
    due = parse_timestamp(value)
    if due is None:
        raise StateRuntimeError(
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
            f"date-time format string: {path.text} == {_show(value)}"
        )
    return due


def _seconds_from_path(state: WaitState, scope: Scope) -> int:
    assert state.seconds_path is not None
    path = state.seconds_path
    value = _read(scope, path.text, "SecondsPath", path)
    if isinstance(value, bool) or not isinstance(value, int):
        raise StateRuntimeError(
            f"The SecondsPath parameter cannot be parsed as a long value: {path.text} == "
            f"{_show(value)}"
        )
    if value < 0:
        raise StateRuntimeError(
            f"The SecondsPath parameter references a negative value: {path.text} == {value}"
        )
    return value


def _read(scope: Scope, text: str, field: str, path: Any) -> Any:
    try:
        return scope.resolve(path)
    except PathNotFound:
        raise StateRuntimeError(
            f"The {field} parameter does not reference an input value: {text}"
        ) from None


def _show(value: Any) -> str:
    return value if isinstance(value, str) else to_json(value)
