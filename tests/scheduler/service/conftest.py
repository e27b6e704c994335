"""A service over a running embedded engine, with a clock the tests move."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from integrations.registry import HandlerRegistry
from scheduler.service import EmbeddedEngine, MachineConfig, StepFunctions, build_service

ROLE = "arn:aws:iam::123456789012:role/stepline"


class Clock:
    """Registry dates: a second per reading, so creation orders are distinct."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def definition(**states: Any) -> str:
    """A definition whose first state is the first keyword."""
    return json.dumps({"StartAt": next(iter(states)), "States": states})


PASS = definition(P={"Type": "Pass", "End": True})
WAIT = definition(W={"Type": "Wait", "Seconds": 30, "End": True})


def config(text: str = PASS, type_: str = "STANDARD") -> MachineConfig:
    return MachineConfig(text, ROLE, type_)


@pytest.fixture
def handlers() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.register("boom", lambda event, context: 1 / 0)
    return registry


@pytest.fixture
def engine(handlers: HandlerRegistry) -> Iterator[EmbeddedEngine]:
    running = EmbeddedEngine(handlers)
    running.start()
    yield running
    running.close()


@pytest.fixture
def service(engine: EmbeddedEngine) -> StepFunctions:
    return build_service(engine, clock=Clock())
