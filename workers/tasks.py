"""The Celery tasks: run one engine step; call one Task resource."""

from __future__ import annotations

from typing import Any

from scheduler.asl.errors import StatesError
from scheduler.engine.messages import Kind, Message, TaskRequest, key_of
from scheduler.engine.nested import parent_message
from scheduler.engine.records import ExecutionStatus
from scheduler.express import run_in_memory
from workers.app import app
from workers.runtime import WorkerRuntime, worker_runtime


@app.task(name="stepline.step")  # type: ignore[untyped-decorator]
def step(args: list[Any]) -> None:
    """Apply one transition (a stale or duplicated message changes nothing)."""
    execution, run, seq, kind, data = args
    message = Message(execution, run, seq, Kind(kind), data)
    runtime = worker_runtime()
    if message.kind == Kind.EXPRESS:
        run_express(runtime, message)
    else:
        runtime.engine.handle(message)


@app.task(name="stepline.steps")  # type: ignore[untyped-decorator]
def steps(batch: list[list[Any]]) -> None:
    """Apply several steps in turn (children of a fan-out, sent together)."""
    failures = []
    for args in batch:
        try:
            step(args)
        except Exception as exc:  # noqa: BLE001 - the others still run; the sweep retries
            failures.append(exc)
    if failures:
        raise failures[0]


def run_express(runtime: WorkerRuntime, message: Message) -> None:
    """A whole Express execution in this task; only its end is written to Redis."""
    record = runtime.store.get_execution(message.execution)
    if record is None or record.status != ExecutionStatus.RUNNING:
        runtime.store.forget(key_of(message))
        return
    final, events = run_in_memory(record, runtime.invoker, runtime.engine.settings)
    if runtime.store.finish_express(final, events, key_of(message)):
        resume = parent_message(record)  # a `.sync` child: its parent's Task ends now
        if resume is not None:
            runtime.dispatcher.send(resume)


@app.task(name="stepline.invoke")  # type: ignore[untyped-decorator]
def invoke(request_fields: dict[str, Any]) -> None:
    """Call a Task state's resource and send its outcome back as a step."""
    request = TaskRequest(**request_fields)
    runtime = worker_runtime()
    try:
        result = runtime.invoker(
            request.resource, request.payload, request.timeout_seconds, request
        )
        data: dict[str, Any] = {"result": result, "submitted": request.callback}
    except StatesError as error:
        data = {"error": error.error, "cause": error.cause}
    except Exception as exc:  # noqa: BLE001 - an integration bug is the task's failure
        data = {"error": "States.TaskFailed", "cause": f"{type(exc).__name__}: {exc}"}
    done = Message(request.execution, request.run, request.seq, Kind.TASK_DONE, data)
    # Applied here rather than sent as one more Celery hop: a Task state costs one hop.
    runtime.engine.handle(done)
