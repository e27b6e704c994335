"""The Celery tasks: run one engine step; call one Task resource."""

from __future__ import annotations

from typing import Any

from scheduler.asl.errors import StatesError
from scheduler.engine.messages import Kind, Message, TaskRequest
from workers.app import app
from workers.runtime import worker_runtime


@app.task(name="stepline.step")  # type: ignore[untyped-decorator]
def step(args: list[Any]) -> None:
    """Apply one transition (a stale or duplicated message changes nothing)."""
    execution, run, seq, kind, data = args
    worker_runtime().engine.handle(Message(execution, run, seq, Kind(kind), data))


@app.task(name="stepline.invoke")  # type: ignore[untyped-decorator]
def invoke(request_fields: dict[str, Any]) -> None:
    """Call a Task state's resource and send its outcome back as a step."""
    request = TaskRequest(**request_fields)
    runtime = worker_runtime()
    try:
        result = runtime.invoker(request.resource, request.payload, request.timeout_seconds)
        data: dict[str, Any] = {"result": result}
    except StatesError as error:
        data = {"error": error.error, "cause": error.cause}
    except Exception as exc:  # noqa: BLE001 - an integration bug is the task's failure
        data = {"error": "States.TaskFailed", "cause": f"{type(exc).__name__}: {exc}"}
    done = Message(request.execution, request.run, request.seq, Kind.TASK_DONE, data)
    runtime.dispatcher.send(done)
