"""Fixtures for engine tests: an embedded runtime on a skipping clock, with handlers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.registry import HandlerRegistry
from scheduler.engine.clock import SkippingClock
from scheduler.runtime import EmbeddedRuntime


@pytest.fixture
def handlers() -> HandlerRegistry:
    return HandlerRegistry()


@pytest.fixture
def runtime(handlers: HandlerRegistry) -> Iterator[EmbeddedRuntime]:
    """Waits and retry delays skip ahead in time instead of sleeping."""
    rt = EmbeddedRuntime(handlers, clock=SkippingClock(start=1_700_000_000.0))
    yield rt
    rt.close()


def lambda_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
