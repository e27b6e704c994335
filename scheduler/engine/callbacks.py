"""Ending tasks from outside: SendTaskSuccess/Failure/Heartbeat and GetActivityTask.

A `.waitForTaskToken` Task or an activity parks its run (no worker is held) until a
token comes back. These functions validate the token against the run it names and send
the engine the step that resumes it; they are safe to call from any thread or process.
"""

from __future__ import annotations

import json
import time
from typing import Any

from scheduler.engine.engine import Engine
from scheduler.engine.messages import Kind, Message
from scheduler.engine.records import ExecutionStatus, RunStatus
from scheduler.engine.tokens import TaskDoesNotExist, TaskTimedOut, parse_token


def _waiting(engine: Engine, token: str) -> tuple[str, str, int]:
    arn, run_id, seq = parse_token(token)
    record, run = engine.store.load_step(arn, run_id)
    if record is None:
        raise TaskDoesNotExist("Task does not exist")
    if (
        record.status != ExecutionStatus.RUNNING
        or run is None
        or run.seq != seq
        or run.status != RunStatus.TASK
    ):
        raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
    return arn, run_id, seq


def send_task_success(engine: Engine, token: str, output: Any) -> None:
    """End the task with `output` (its result, as if its call had returned it)."""
    arn, run_id, seq = _waiting(engine, token)
    engine.dispatcher.send(Message(arn, run_id, seq, Kind.TASK_DONE, {"result": output}))


def send_task_failure(engine: Engine, token: str, error: str | None, cause: str | None) -> None:
    """Fail the task with `error`/`cause` (Retry and Catch apply)."""
    arn, run_id, seq = _waiting(engine, token)
    data = {"error": error or "", "cause": cause}
    engine.dispatcher.send(Message(arn, run_id, seq, Kind.TASK_DONE, data))


def send_task_heartbeat(engine: Engine, token: str) -> None:
    """Tell the task its worker is alive: its HeartbeatSeconds start over."""
    arn, run_id, seq = _waiting(engine, token)
    engine.dispatcher.send(Message(arn, run_id, seq, Kind.HEARTBEAT, {"beat": True}))


def get_activity_task(
    engine: Engine, activity_arn: str, worker_name: str | None, timeout: float = 60.0
) -> dict[str, Any] | None:
    """The next task of an activity, `{taskToken, input}` (input as JSON text), waiting
    up to `timeout` seconds (AWS: 60); None when there is none. Tasks whose execution
    ended while they waited are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        stored = engine.store.take_activity_task(activity_arn, max(0.0, left))
        if stored is None:
            return None
        task = json.loads(stored)
        try:
            arn, run_id, seq = _waiting(engine, task["taskToken"])
        except TaskDoesNotExist:
            if time.monotonic() >= deadline:
                return None
            continue
        data = {"worker": worker_name}
        # Recorded before the task is handed out, so ActivityStarted always precedes
        # the answer the worker may send a moment later.
        engine.handle_here(Message(arn, run_id, seq, Kind.ACTIVITY_STARTED, data))
        return {"taskToken": task["taskToken"], "input": json.dumps(task["input"])}
