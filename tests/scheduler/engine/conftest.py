"""Engine fixtures. `runtime` runs each test on both engine configurations: embedded
(in-process, on a skipping clock) and cluster (Redis + Celery worker processes).
Handlers live in handlers.py beside this file, so worker processes load them too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.registry import HandlerRegistry
from scheduler.engine.clock import SkippingClock
from scheduler.runtime import EmbeddedRuntime

HANDLERS = Path(__file__).with_name("handlers.py")


def lambda_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


@pytest.fixture
def handlers() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.load(str(HANDLERS))
    return registry


@pytest.fixture
def embedded(handlers: HandlerRegistry) -> Iterator[EmbeddedRuntime]:
    """Waits and retry delays skip ahead in time instead of sleeping."""
    rt = EmbeddedRuntime(handlers, clock=SkippingClock(start=1_700_000_000.0))
    yield rt
    rt.close()


@pytest.fixture(params=["embedded", "cluster"])
def runtime(request: pytest.FixtureRequest, handlers: HandlerRegistry) -> Iterator[Any]:
    """The same test on both engine configurations."""
    if request.param == "cluster":
        yield request.getfixturevalue("cluster_runtime")
        return
    rt = EmbeddedRuntime(handlers, clock=SkippingClock(start=1_700_000_000.0))
    yield rt
    rt.close()
