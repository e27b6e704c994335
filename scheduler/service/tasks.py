"""Callbacks, activity polling and redrive: the service's side of task tokens.

The engine does the work (`scheduler/engine/callbacks.py`, `lifecycle.py`); this module
validates what the API hands over and turns the engine's refusals into AWS's errors.
It works for both engines: on the embedded one, the steps it sends are queued to the
engine's thread; a redrive runs there through `EmbeddedEngine.call`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from scheduler.engine import callbacks
from scheduler.engine.engine import Engine
from scheduler.engine.lifecycle import NotRedrivable
from scheduler.engine.records import ExecutionRecord
from scheduler.engine.tokens import InvalidToken, TaskDoesNotExist, TaskTimedOut
from scheduler.service import errors

T = TypeVar("T")

ACTIVITY_POLL_SECONDS = 60.0
"""GetActivityTask waits this long for a task, as AWS does."""


def _engine_of(engine: Any) -> Engine:
    inner = getattr(engine, "engine", None)
    if not isinstance(inner, Engine):
        raise errors.ValidationException("this engine does not support task tokens")
    return inner


def _translated(work: Callable[[], T]) -> T:
    try:
        return work()
    except InvalidToken as exc:
        raise errors.InvalidTaskToken(str(exc)) from None
    except TaskTimedOut as exc:
        raise errors.TaskTimedOut(str(exc)) from None
    except TaskDoesNotExist as exc:
        raise errors.TaskDoesNotExist(str(exc)) from None


def send_task_success(engine: Any, token: str, output_text: str) -> None:
    """SendTaskSuccess: the task ends with `output` (JSON text)."""
    try:
        output = json.loads(output_text)
    except ValueError:
        raise errors.InvalidOutput("Invalid output: the output is not valid JSON") from None
    inner = _engine_of(engine)
    _translated(lambda: callbacks.send_task_success(inner, token, output))


def send_task_failure(engine: Any, token: str, error: str | None, cause: str | None) -> None:
    """SendTaskFailure: the task fails with `error`/`cause` (Retry and Catch apply)."""
    inner = _engine_of(engine)
    _translated(lambda: callbacks.send_task_failure(inner, token, error, cause))


def send_task_heartbeat(engine: Any, token: str) -> None:
    """SendTaskHeartbeat: the task's HeartbeatSeconds start over."""
    inner = _engine_of(engine)
    _translated(lambda: callbacks.send_task_heartbeat(inner, token))


def get_activity_task(
    engine: Any, activity_arn: str, worker: str | None, timeout: float = ACTIVITY_POLL_SECONDS
) -> dict[str, Any]:
    """GetActivityTask: `{taskToken, input}`, or `{}` when none came within `timeout`."""
    inner = _engine_of(engine)
    task = callbacks.get_activity_task(inner, activity_arn, worker, timeout)
    return task or {}


def redrive(engine: Any, arn: str) -> ExecutionRecord:
    """RedriveExecution: the execution restarts where it stopped."""
    inner = _engine_of(engine)
    call: Callable[[Callable[[], ExecutionRecord]], ExecutionRecord] = getattr(
        engine, "call", lambda work: work()
    )
    try:
        return call(lambda: inner.redrive_execution(arn))
    except NotRedrivable as exc:
        if "Does Not Exist" in str(exc):
            raise errors.ExecutionDoesNotExist(str(exc)) from None
        raise errors.ExecutionNotRedrivable(str(exc)) from None


def task_caller(engine: Any) -> Callable[[str, Any, float | None], Any]:
    """How the engine behind the service calls Task resources (for TestState)."""
    runtime = getattr(engine, "runtime", None)
    if runtime is not None:
        return runtime.invoker  # type: ignore[no-any-return]
    return engine.dispatcher.call_task  # type: ignore[no-any-return]
