"""The Celery tasks: engine steps (`stepline.step`, and `stepline.steps` for a batch) and
Task calls (`stepline.invoke`, and `stepline.invokes` for calls made together)."""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, wait
from typing import Any

from scheduler.engine.messages import Kind, Message, TaskRequest, call_task, key_of
from scheduler.engine.nested import parent_message
from scheduler.engine.records import ExecutionStatus
from scheduler.express import run_in_memory
from workers.app import app
from workers.runtime import WorkerRuntime, worker_runtime

CHAIN_SECONDS = 0.05
"""How long one `stepline.invoke` may go on making an execution's next Task calls."""
GATHER_SECONDS = 0.002
"""How long the first outcome of a `stepline.invokes` waits for others to be applied with."""


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
    """Apply several steps sent together: a fan-out's children, or the first steps the API
    gathered. Each execution's steps share one load and one commit (Engine.handle_batch);
    Express runs, if any, go one by one."""
    runtime = worker_runtime()
    messages = [Message(e, r, s, Kind(k), d) for e, r, s, k, d in batch]
    express = [m for m in messages if m.kind == Kind.EXPRESS]
    for message in express:
        run_express(runtime, message)
    runtime.engine.handle_batch([m for m in messages if m.kind != Kind.EXPRESS])


def run_express(runtime: WorkerRuntime, message: Message) -> None:
    """A whole Express execution in this task; only its end is written to Redis."""
    record = runtime.store.get_execution(message.execution)
    if record is None or record.status != ExecutionStatus.RUNNING:
        runtime.store.forget(key_of(message))
        return
    final, events = run_in_memory(record, runtime.invoker, runtime.engine.settings)
    forget_after = runtime.engine.forget_after(final)
    if runtime.store.finish_express(final, events, key_of(message), forget_after):
        resume = parent_message(record)  # a `.sync` child: its parent's Task ends now
        if resume is not None:
            runtime.dispatcher.send(resume)


@app.task(name="stepline.invoke")  # type: ignore[untyped-decorator]
def invoke(request_fields: dict[str, Any]) -> None:
    """Call a Task state's resource and apply its outcome as a step, here rather than as
    one more Celery hop. When that step's only follow-up is the next Task call of the same
    execution, make it here too, for up to CHAIN_SECONDS: a chain of quick Tasks then
    costs one hop per CHAIN_SECONDS instead of one per Task, and a long chain still yields
    its worker to other executions. Each call was committed as in flight before it is
    made, so a worker that dies mid-chain loses nothing (the sweep re-sends it)."""
    runtime = worker_runtime()
    request = TaskRequest(**request_fields)
    deadline = time.monotonic() + CHAIN_SECONDS
    while True:
        calls: list[TaskRequest] = []
        runtime.engine.handle(call_task(runtime.invoker, request), calls)
        if (
            len(calls) == 1
            and calls[0].execution == request.execution
            and time.monotonic() < deadline
        ):
            request = calls[0]
            continue
        if calls:
            runtime.engine.dispatcher.invoke_many(calls)
        return


@app.task(name="stepline.invokes")  # type: ignore[untyped-decorator]
def invokes(batch: list[dict[str, Any]]) -> None:
    """Several task calls made together (a Map's children, or the first calls of
    executions started together), each on its own thread as the embedded engine runs
    them: a batch of calls costs one hop, and slow calls still overlap. Outcomes are
    applied as they come in, those that finish within GATHER_SECONDS of each other with
    one load and one commit per execution, so a slow call never holds back the others."""
    runtime = worker_runtime()
    requests = [TaskRequest(**fields) for fields in batch]
    order = {runtime.calls.submit(call_task, runtime.invoker, r): i for i, r in enumerate(requests)}
    pending = set(order)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        if pending:
            more, pending = wait(pending, timeout=GATHER_SECONDS)
            done |= more
        # In the order the calls were made, so a batch's history is deterministic.
        runtime.engine.handle_batch([f.result() for f in sorted(done, key=order.__getitem__)])
