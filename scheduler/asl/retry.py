"""Retry and Catch decisions: pure functions of the error and the attempts so far."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from scheduler.asl.errors import ErrorName
from scheduler.asl.model import Catcher, Jitter, Retrier


def error_matches(error_equals: Sequence[str], error: str) -> bool:
    """Does an ErrorEquals list match `error`?

    `States.Runtime` is never retried or caught, even when named (AWS's recorded behaviour);
    `States.ALL` matches everything else; `States.TaskFailed` matches everything but
    `States.Timeout`, as AWS documents.
    """
    if error == ErrorName.RUNTIME:
        return False
    if error in error_equals:
        return True
    if ErrorName.ALL in error_equals:
        return True
    return ErrorName.TASK_FAILED in error_equals and error != ErrorName.TIMEOUT


#: The largest retry interval ASL allows (MaxDelaySeconds must be below 31622401).
LONGEST_DELAY = 31_622_400.0


def retry_delay(retrier: Retrier, attempt: int, random: Callable[[], float]) -> float:
    """Seconds before retry number `attempt + 1`: backoff, capped, optionally jittered."""
    cap = LONGEST_DELAY
    if retrier.max_delay_seconds is not None:
        cap = min(cap, float(retrier.max_delay_seconds))
    try:
        delay = min(float(retrier.interval_seconds) * float(retrier.backoff_rate) ** attempt, cap)
    except OverflowError:  # thousands of retries with a cap: the cap is the answer
        delay = cap
    if retrier.jitter is Jitter.FULL:
        delay = delay * random()
    return delay


def find_retry(
    retriers: Sequence[Retrier],
    error: str,
    attempts: Sequence[int],
    random: Callable[[], float],
) -> tuple[int, float] | None:
    """(retrier index, delay) when the first retrier matching `error` has attempts left.

    Only the first matching retrier counts: when it is exhausted the error goes to Catch.
    """
    for index, retrier in enumerate(retriers):
        if error_matches(retrier.error_equals, error):
            used = attempts[index] if index < len(attempts) else 0
            if used >= retrier.max_attempts:
                return None
            return index, retry_delay(retrier, used, random)
    return None


def find_catcher(catchers: Sequence[Catcher], error: str) -> Catcher | None:
    """The first catcher whose ErrorEquals matches `error`."""
    for catcher in catchers:
        if error_matches(catcher.error_equals, error):
            return catcher
    return None


def error_output(error: str, cause: str | None) -> dict[str, Any]:
    """The `{Error, Cause}` object a catcher passes on."""
    result: dict[str, Any] = {"Error": error}
    if cause is not None:
        result["Cause"] = cause
    return result
