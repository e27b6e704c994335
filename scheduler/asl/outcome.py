"""What the interpreter decides for a state; the engine applies it to durable state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scheduler.asl.errors import StatesError
from scheduler.asl.model import StateMachine


@dataclass(slots=True)
class Advance:
    """Leave the state with `output`; go to `next`, or end the branch when `next` is None.

    Never changed once built; not `frozen=True` only for speed: one is built for nearly every state,
    and a frozen dataclass's `__init__` (`object.__setattr__` per field) costs 3-5x more.
    """

    output: Any
    next: str | None
    assigned: dict[str, Any] | None = None
    """Variables the state's `Assign` sets (visible to the states after it)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """The branch fails with `error`/`cause` (nothing left to retry or catch)."""

    error: str
    cause: str | None
    runtime: bool = False
    """The failure is a States.Runtime-like error of the state itself (a catcher that
    could not apply): the engine prefixes its cause with the state's name."""


@dataclass(frozen=True, slots=True)
class InvokeTask:
    """Call `resource` with `payload`; feed the result back through `task_succeeded`."""

    resource: str
    payload: Any
    timeout_seconds: float | None
    heartbeat_seconds: float | None


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """Sleep until `due` (epoch seconds, already time-scaled by nobody), then advance."""

    due: float
    output: Any
    next: str | None
    assigned: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class FanOut:
    """Run `machines[i]` on `inputs[i]`; join the outputs through `join_results`.

    For Parallel, one machine per branch. For Map, the same processor for every item, and
    `item_values` keeps each item for `$$.Map.Item.Value`.
    """

    machines: tuple[StateMachine, ...]
    inputs: list[Any]
    max_concurrency: int
    tolerated_failure_count: int | None = None
    tolerated_failure_percentage: float | None = None
    start_error: StatesError | None = None
    """A Map whose tolerance fields are invalid fails after MapStateStarted, as on AWS."""


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """Run the state again after `delay` seconds (`retrier` is the index that matched)."""

    delay: float
    retrier: int


@dataclass(frozen=True, slots=True)
class Caught:
    """A catcher matched: leave the state with `output` and go to `next`."""

    output: Any
    next: str
    assigned: dict[str, Any] | None = None


Outcome = Advance | Failure | InvokeTask | WaitUntil | FanOut
ErrorOutcome = RetryAfter | Caught | Failure
