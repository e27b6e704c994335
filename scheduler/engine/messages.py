"""What travels between engine steps: a message names a run and the seq it expects."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from scheduler.asl.errors import StatesError


class Kind(StrEnum):
    """Why a step runs."""

    ENTER = "enter"  # enter the run's current state
    RETRY = "retry"  # run the current state again after a retry delay
    WAKE = "wake"  # a Wait elapsed: leave the state
    TASK_DONE = "task_done"  # a task result (or error) came back
    TIMEOUT = "timeout"  # a task's TimeoutSeconds elapsed
    JOIN = "join"  # every branch/iteration finished (or one failed)
    EXEC_TIMEOUT = "exec_timeout"  # the execution's TimeoutSeconds elapsed
    EXPRESS = "express"  # run a whole Express execution in this one step
    HEARTBEAT = "heartbeat"  # a task's HeartbeatSeconds may have elapsed (or a beat came)
    ACTIVITY_STARTED = "activity_started"  # a worker took an activity task
    CHILD_ENDED = "child_ended"  # a `.sync` child execution ended (or: look whether it has)


@dataclass(slots=True)
class Message:
    """A step to run: `run` of `execution`, valid only while the run's seq is `seq`.

    Never changed once built; not `frozen=True` only for speed: one is built for every step,
    and a frozen dataclass's `__init__` (`object.__setattr__` per field) costs 3-5x more.
    """

    execution: str
    run: str
    seq: int
    kind: Kind
    data: Any = None


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """A task resource to call; its outcome comes back as a TASK_DONE message."""

    execution: str
    run: str
    seq: int
    resource: str
    payload: Any
    state_name: str
    timeout_seconds: float | None = None
    callback: bool = False
    """`.waitForTaskToken`: the call only submits the task; a token ends it."""


class TaskCaller(Protocol):
    """Calls a Task resource (`integrations.invoke.Invoker`); `request` names the Task
    that calls (integrations that link to their caller, as nested executions do, use it)."""

    def __call__(
        self,
        resource: str,
        payload: Any,
        timeout_seconds: float | None,
        request: TaskRequest | None = None,
        /,
    ) -> Any: ...


def call_task(call: TaskCaller, request: TaskRequest) -> Message:
    """Call a task resource; its outcome as the TASK_DONE message the engine applies.

    A StatesError is the task's failure as raised; any other exception is an integration
    bug, reported as States.TaskFailed naming it (never lost, never a crash)."""
    try:
        result = call(request.resource, request.payload, request.timeout_seconds, request)
        data: dict[str, Any] = {"result": result, "submitted": request.callback}
    except StatesError as error:
        data = {"error": error.error, "cause": error.cause}
    except Exception as exc:  # noqa: BLE001 - an integration bug is the task's failure
        data = {"error": "States.TaskFailed", "cause": f"{type(exc).__name__}: {exc}"}
    return Message(request.execution, request.run, request.seq, Kind.TASK_DONE, data)


def message_key(execution: str, run: str, seq: int, kind: str) -> str:
    """How a message (or, with kind `task`, a task call) is named in Redis sets."""
    return f"{execution}|{run}|{seq}|{kind}"


def key_of(message: Message) -> str:
    """The key of a message; a TASK_DONE consumes the key of the task call it answers."""
    # str() of a StrEnum member is its value, without the `.value` property's two calls.
    kind = "task" if message.kind == Kind.TASK_DONE else str(message.kind)
    return message_key(message.execution, message.run, message.seq, kind)


def parse_key(key: str) -> tuple[str, str, int, str]:
    """(execution, run, seq, kind) of a key (ARNs contain no `|`)."""
    execution, run, seq, kind = key.rsplit("|", 3)
    return execution, run, int(seq), kind
