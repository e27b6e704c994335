"""Express executions in one step: run the whole execution in memory, then keep only
its end (and its history, which AWS does not keep; Stepline does, for debugging).

At-least-once, as AWS runs Express workflows: a worker that dies mid-run leaves the
execution RUNNING, its message is re-sent, and the execution runs again from the start.
"""

from __future__ import annotations

from dataclasses import replace

from scheduler.engine.clock import Clock, SystemClock
from scheduler.engine.engine import Engine
from scheduler.engine.inline import InlineDispatcher
from scheduler.engine.memory_store import MemoryStore
from scheduler.engine.messages import TaskCaller
from scheduler.engine.records import Event, ExecutionRecord, ExecutionStatus
from scheduler.engine.settings import EngineSettings


def run_in_memory(
    record: ExecutionRecord,
    call_task: TaskCaller,
    settings: EngineSettings,
    clock: Clock | None = None,
) -> tuple[ExecutionRecord, list[Event]]:
    """Run `record`'s execution from its start to its end in this process."""
    clock = clock or SystemClock()
    store = MemoryStore()
    dispatcher = InlineDispatcher(clock, call_task)
    engine = Engine(
        store,
        dispatcher,
        clock=clock,
        settings=replace(settings, express_in_one_step=False, express_history=True),
    )
    try:
        started = engine.start_execution(
            arn=record.arn,
            name=record.name,
            state_machine_arn=record.state_machine_arn,
            definition=record.definition,
            input_value=record.input,
            role_arn=record.role_arn,
            type_=record.type,
        )
        assert started is not None

        def finished() -> bool:
            current = store.get_execution(record.arn)
            return current is not None and current.status != ExecutionStatus.RUNNING

        dispatcher.run(engine.handle, until=finished)
    finally:
        dispatcher.close()
    final = store.get_execution(record.arn)
    assert final is not None
    final.start_date = record.start_date
    return final, store.history(record.arn)
