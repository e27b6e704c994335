"""Parallel branches and Map iterations as child runs: creating them, announcing them,
and reporting each one's end to its parent's fan-out."""

from __future__ import annotations

import uuid
from typing import Any

from scheduler.asl.model import MapState, ParallelState
from scheduler.asl.outcome import FanOut
from scheduler.engine.fanin import child_id, new_fanout
from scheduler.engine.machines import MachineCache
from scheduler.engine.map_runs import new_map_run
from scheduler.engine.messages import Kind, Message
from scheduler.engine.records import ExecutionRecord, Run, RunStatus
from scheduler.engine.step import Step
from scheduler.engine.store import ChildReport


def map_run_arn(record: ExecutionRecord, state: MapState) -> str:
    """`arn:...:mapRun:MACHINE/LABEL:ID`, as AWS names a Distributed Map's run."""
    prefix, _, machine = record.state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:mapRun:{machine}/{state.label or state.name}:{uuid.uuid4()}"


def start_children(
    step: Step,
    run: Run,
    state: ParallelState | MapState,
    outcome: FanOut,
    machines: MachineCache,
    map_run: str | None = None,
) -> None:
    """Record the fan-out, create every child run, send the first ones their first step.

    Children beyond MaxConcurrency wait, created, until a sibling's end launches them.
    `map_run`: the map run already started (an ItemReader's: its events are recorded).
    """
    if map_run is not None:
        started = run.last_event_id
    elif isinstance(state, ParallelState):
        started = step.event(run, "ParallelStateStarted")
    else:
        started = step.event(run, "MapStateStarted", {"length": len(outcome.inputs)})
    run.seq += 1
    run.status = RunStatus.FANOUT
    fanout = new_fanout(run, state, outcome, started)
    quiet = run.quiet
    if isinstance(state, MapState) and state.distributed:
        fanout.map_run_arn = map_run or map_run_arn(step.record, state)
        if map_run is None:
            step.event(run, "MapRunStarted", {"mapRunArn": fanout.map_run_arn})
        # Kept from the fan-out on: an ItemReader's map run is listed once its items are in.
        step.writes.map_runs.append(
            new_map_run(fanout.map_run_arn, step.record, run.id, outcome, step.now)
        )
        quiet = True
    fanout.started_event_id = run.last_event_id
    run.children += fanout.total
    step.save(run)
    step.writes.fanouts[run.id] = fanout
    arn = step.record.arn
    if fanout.total == 0:
        step.writes.messages.append(Message(arn, run.id, run.seq, Kind.JOIN))
        return
    is_map = isinstance(state, MapState)
    # Every Map iteration runs the one item processor; each Parallel branch its own.
    paths = [(*run.machine, state.name, i) for i in range(1 if is_map else fanout.total)]
    starts = [machines.machine_at(step.record.definition, path).start_at for path in paths]
    iteration_of = state.name if is_map and not quiet else None
    # AWS hands Distributed Map items no outer variables.
    inherit = not (quiet and not run.quiet)
    for index, value in enumerate(outcome.inputs):
        branch = 0 if is_map else index
        child = Run(
            id=child_id(run.id, fanout, index),
            machine=paths[branch],
            state=starts[branch],
            input=value,
            parent=run.id,
            index=index,
            last_event_id=fanout.started_event_id,
            quiet=quiet,
            iteration_of=iteration_of,
            variables=dict(run.variables) if inherit else {},
        )
        step.save(child)
        if index < fanout.launched:
            step.writes.messages.append(Message(arn, child.id, 0, Kind.ENTER))


def announce_iteration(step: Step, run: Run, previous: int | None = None) -> None:
    """A Map iteration's first step: MapIterationStarted, as AWS records it (after the
    sibling whose end launched it, under MaxConcurrency)."""
    if run.iteration_of is not None:
        details = {"index": run.index, "name": run.iteration_of}
        step.event(run, "MapIterationStarted", details, previous=previous)


def report_to_parent(
    step: Step,
    run: Run,
    output: Any = None,
    error: tuple[str, str | None] | None = None,
) -> None:
    """A child ended: its last events, and the report the store counts in atomically."""
    assert run.parent is not None
    run.status = RunStatus.DONE
    run.seq += 1
    last_state_event = run.last_event_id
    if run.iteration_of is not None:
        kind = "MapIterationFailed" if error else "MapIterationSucceeded"
        step.event(run, kind, {"index": run.index, "name": run.iteration_of})
    step.save(run)
    step.writes.child_report = ChildReport(
        run.parent, run.index, output, error, last_state_event, run.last_event_id
    )
