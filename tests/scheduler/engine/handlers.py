"""Handlers the engine tests call, importable by worker processes (no shared state:
behaviour depends only on the event, so it is the same in every process)."""

from __future__ import annotations

from typing import Any


class PaymentDeclined(Exception):
    """A business error a Catch can route."""


def double(event: Any, context: Any) -> Any:
    return {"value": event["value"] * 2}


def times_ten(event: Any, context: Any) -> Any:
    return event * 10


def decline(event: Any, context: Any) -> Any:
    raise PaymentDeclined("card expired")


def fail_until(event: Any, context: Any) -> Any:
    """Fails while `retry` (from $$.State.RetryCount) is below `succeed_at`."""
    if event["retry"] < event["succeed_at"]:
        raise TimeoutError(f"attempt {event['retry']} failed")
    return {"attempts": event["retry"] + 1}


def slow_add(event: Any, context: Any) -> Any:
    """Adds one after a short pause, so a test can kill a worker mid-execution."""
    import time

    time.sleep(event.get("pause", 0.02))
    return {"n": event["n"] + 1, "pause": event.get("pause", 0.02)}


def remember_token(event: Any, context: Any) -> Any:
    """A callback's call: returns what it was given (the token among it)."""
    return event
