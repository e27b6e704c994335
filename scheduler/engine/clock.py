"""The clock, injected everywhere time is read, so tests can scale or skip it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Epoch seconds now."""

    def now(self) -> float:
        """Epoch seconds."""


class SystemClock:
    """The real time."""

    def now(self) -> float:
        return time.time()


class SkippingClock:
    """A clock that jumps forward whenever the engine has nothing to do but wait.

    For tests and local debugging: Waits, retry delays and timeouts take no real time,
    yet every timestamp (history, `$$.State.EnteredTime`) is as if they had.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start

    def now(self) -> float:
        return self._now

    def advance_to(self, moment: float) -> None:
        """Move time forward to `moment` (never backward)."""
        self._now = max(self._now, moment)


def iso_timestamp(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds, as AWS prints dates in the context object."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
