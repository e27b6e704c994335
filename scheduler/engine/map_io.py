"""A Distributed Map's I/O on the task path: reading its items, writing its results.

Entering a Map with an ItemReader records MapStateStarted (length 0) and MapRunStarted,
as AWS does, then sends the reader's call out as a TaskRequest like any Task's: on the
embedded engine's task threads, or as `stepline.invoke` on a Celery worker. So no
transition worker waits on S3. The call's TASK_DONE comes back to `call_done`: the items
fan out as the map run's children, or the map run fails (MapRunFailed with
States.ItemReaderFailed, then MapStateFailed, then Retry/Catch).

With a ResultWriter Resource, the JOIN does not end the map run: the results go out as a
second call that writes them to S3; its TASK_DONE records MapRunSucceeded and leaves the
state with `{MapRunArn, ResultWriterDetails}`, or fails the map run with
States.ResultWriterFailed. A writer's children report `{"Output": ...}` so that a
succeeded child is never mistaken for a failed one (`{"Error", "Cause"}`), and the map
keeps its children's inputs (`run.pending["map_inputs"]`) for the result files.
"""

from __future__ import annotations

from typing import Any

from scheduler.asl.errors import ErrorName, StatesError
from scheduler.asl.interpreter import items_read, results_to_write, results_written
from scheduler.asl.model import MapState
from scheduler.asl.outcome import Advance, FanOut, InvokeTask
from scheduler.asl.result_writer import succeeded_entry
from scheduler.asl.scope import Scope
from scheduler.engine import events
from scheduler.engine.children import map_run_arn, start_children
from scheduler.engine.machines import MachineCache
from scheduler.engine.messages import TaskRequest
from scheduler.engine.records import ExecutionRecord, Fanout, Run, RunStatus
from scheduler.engine.step import Step

READ = "read"
WRITE = "write"


def start_reading(step: Step, run: Run, state: MapState, call: InvokeTask) -> None:
    """The map run starts; its ItemReader's call goes out."""
    step.event(run, "MapStateStarted", {"length": 0})
    arn = map_run_arn(step.record, state)
    step.event(run, "MapRunStarted", {"mapRunArn": arn})
    _send(step, run, state, call, {"map_io": READ, "map_run_arn": arn})


def writes_results(state: Any) -> bool:
    """Whether a Map's results go to S3 through its ResultWriter's Resource."""
    return isinstance(state, MapState) and state.writer is not None and bool(state.writer.resource)


def start_writing(
    step: Step, run: Run, state: MapState, scope: Scope, fanout: Fanout
) -> StatesError | None:
    """Every child is in: the call that writes their results goes out. Returns the error
    the map run failed with (MapRunFailed recorded) when the call cannot be made."""
    arn = fanout.map_run_arn or map_run_arn(step.record, state)
    inputs = list((run.pending or {}).get("map_inputs") or [])
    try:
        call = results_to_write(state, scope, arn, inputs, fanout.results)
    except StatesError as error:
        return map_run_failed(step, run, error)
    _send(step, run, state, call, {"map_io": WRITE, "map_run_arn": arn})
    return None


def remember_inputs(run: Run, state: MapState, outcome: FanOut) -> None:
    """A Map with a ResultWriter keeps its children's inputs for the result files."""
    if state.writer is not None:
        run.pending = {"map_inputs": list(outcome.inputs)}


def child_output(machines: MachineCache, record: ExecutionRecord, run: Run, output: Any) -> Any:
    """What a child reports to its parent: `{"Output": ...}` under a ResultWriter."""
    if len(run.machine) < 2 or run.machine[-1] != 0:
        return output
    parent = machines.machine_at(record.definition, run.machine[:-2])
    state = parent.states.get(str(run.machine[-2]))
    if isinstance(state, MapState) and state.writer is not None:
        return succeeded_entry(output)
    return output


def call_done(
    step: Step,
    run: Run,
    state: MapState,
    scope: Scope,
    data: dict[str, Any],
    machines: MachineCache,
) -> Advance | StatesError | None:
    """The reader's or the writer's call came back with `data` (its TASK_DONE).

    Returns what the engine does next: leave the state (Advance: the results are
    written), handle the error the map run failed with (MapRunFailed recorded; the state
    fails with MapStateFailed unless Retry/Catch apply), or nothing (the children run).
    Raises StatesError for a failure after MapStateSucceeded (ResultSelector, ...).
    """
    pending = run.pending or {}
    arn = str(pending.get("map_run_arn"))
    if pending.get("map_io") == WRITE:
        return _written(step, run, state, scope, arn, data)
    try:
        if "error" in data:
            raise _call_failed(ErrorName.ITEM_READER_FAILED, "read its items", state, data)
        outcome = items_read(state, scope, data.get("result"))
        if outcome.start_error is not None:
            raise outcome.start_error
    except StatesError as error:
        return map_run_failed(step, run, error)
    run.pending = None
    remember_inputs(run, state, outcome)
    start_children(step, run, state, outcome, machines, map_run=arn)
    return None


def _written(
    step: Step, run: Run, state: MapState, scope: Scope, arn: str, data: dict[str, Any]
) -> Advance | StatesError:
    if "error" in data:
        error = _call_failed(ErrorName.RESULT_WRITER_FAILED, "write its results", state, data)
        return map_run_failed(step, run, error)
    after = step.event(run, "MapRunSucceeded")
    step.event(run, "MapStateSucceeded")
    run.last_event_id = after  # MapStateExited follows MapRunSucceeded, as on AWS
    run.pending = None
    return results_written(state, scope, arn, data.get("result"))


def map_run_failed(step: Step, run: Run, error: StatesError) -> StatesError:
    """MapRunFailed with the error; the engine then fails the state (MapStateFailed)."""
    run.pending = None
    step.event(run, "MapRunFailed", events.error_details(error.error, error.cause))
    return error


def _send(step: Step, run: Run, state: MapState, call: InvokeTask, pending: dict[str, Any]) -> None:
    run.seq += 1
    run.status = RunStatus.TASK
    run.pending = pending
    step.writes.tasks.append(
        TaskRequest(step.record.arn, run.id, run.seq, call.resource, call.payload, state.name)
    )
    step.save(run)


def _call_failed(name: str, doing: str, state: MapState, data: dict[str, Any]) -> StatesError:
    """The reader's or writer's error as `name`, its cause naming the state."""
    error, cause = str(data["error"]), data.get("cause")
    detail = cause if error == name else f"{error}: {cause}" if cause else error
    return StatesError(name, f"The state '{state.name}' could not {doing}: {detail}")
