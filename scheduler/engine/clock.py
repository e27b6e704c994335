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


def iso_timestamp(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds, as AWS prints dates in the context object."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
