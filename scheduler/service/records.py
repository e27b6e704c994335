"""What the registry keeps: state machines, their revisions and versions, aliases,
activities, and what an execution was started from. Plain dataclasses of JSON values,
stored through the `KeyValue` contract with `to_json` / `from_json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_LOGGING: dict[str, Any] = {"level": "OFF", "includeExecutionData": False}
DEFAULT_TRACING: dict[str, Any] = {"enabled": False}


def to_json(record: Any) -> dict[str, Any]:
    """A record as a JSON object."""
    result: dict[str, Any] = asdict(record)
    return result


def from_json(cls: type[T], data: dict[str, Any]) -> T:
    """A record from the JSON object `to_json` made."""
    return cls(**data)


@dataclass(slots=True)
class MachineConfig:
    """What a revision fixes: everything an execution runs with."""

    definition: str
    role_arn: str
    type: str = "STANDARD"
    logging: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_LOGGING))
    tracing: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_TRACING))
    encryption: dict[str, Any] | None = None


@dataclass(slots=True)
class Revision:
    """One configuration of a state machine; executions keep the one they started with."""

    machine_arn: str
    revision_id: str
    config: dict[str, Any]
    """A `MachineConfig` as JSON."""
    update_date: float

    def machine_config(self) -> MachineConfig:
        return from_json(MachineConfig, self.config)


@dataclass(slots=True)
class StateMachine:
    """A state machine: its name, ARN and current revision."""

    name: str
    arn: str
    creation_date: float
    revision_id: str
    config: dict[str, Any]
    """The current revision's `MachineConfig` as JSON."""
    update_date: float

    def machine_config(self) -> MachineConfig:
        return from_json(MachineConfig, self.config)


@dataclass(slots=True)
class Version:
    """A published, immutable revision of a state machine, numbered from 1."""

    machine_arn: str
    arn: str
    number: int
    revision_id: str
    description: str | None
    creation_date: float


@dataclass(slots=True)
class Alias:
    """A name routing executions to one or two versions by weight."""

    machine_arn: str
    arn: str
    name: str
    description: str | None
    routing: list[dict[str, Any]]
    """`[{"stateMachineVersionArn": ..., "weight": 0-100}]`, weights adding up to 100."""
    creation_date: float
    update_date: float


@dataclass(slots=True)
class Activity:
    """An activity: a Task resource that workers poll for."""

    arn: str
    name: str
    creation_date: float
    encryption: dict[str, Any] | None = None


@dataclass(slots=True)
class ExecutionOrigin:
    """What an execution was started from (the engine's record does not say)."""

    execution_arn: str
    machine_arn: str
    revision_id: str
    version_arn: str | None = None
    alias_arn: str | None = None
    trace_header: str | None = None
