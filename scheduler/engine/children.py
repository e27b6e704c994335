"""Parallel branches and Map iterations as child runs: starting them, launching more
under MaxConcurrency, and reporting each one's end to its parent."""

from __future__ import annotations

import uuid
from typing import Any

from scheduler.asl.model import MapState, ParallelState
from scheduler.asl.outcome import FanOut
from scheduler.engine.fanin import child_finished, launch_child, new_fanout
from scheduler.engine.machines import MachineCache
from scheduler.engine.messages import Kind, Message
from scheduler.engine.records import ExecutionRecord, Fanout, Run, RunStatus
from scheduler.engine.step import Step
from scheduler.engine.store import Store


def map_run_arn(record: ExecutionRecord, state: MapState) -> str:
    """`arn:...:mapRun:MACHINE/LABEL:ID`, as AWS names a Distributed Map's run."""
    prefix, _, machine = record.state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:mapRun:{machine}/{state.label or state.name}:{uuid.uuid4()}"


def start_children(
    step: Step, run: Run, state: ParallelState | MapState, outcome: FanOut, machines: MachineCache
) -> None:
    """Record the fan-out, launch the first children, and leave the parent waiting."""
    if isinstance(state, ParallelState):
        started = step.event(run, "ParallelStateStarted")
    else:
        started = step.event(run, "MapStateStarted", {"length": len(outcome.inputs)})
    fanout = new_fanout(run, state, outcome, started)
    if isinstance(state, MapState) and state.distributed:
        fanout.map_run_arn = map_run_arn(step.record, state)
        step.event(run, "MapRunStarted", {"mapRunArn": fanout.map_run_arn})
    run.seq += 1
    run.status = RunStatus.FANOUT
    step.save(run)
    step.writes.fanouts[run.id] = fanout
    if fanout.total == 0:
        step.writes.messages.append(Message(step.record.arn, run.id, run.seq, Kind.JOIN))
        return
    limit = fanout.max_concurrency
    for _ in range(fanout.total if limit <= 0 else min(fanout.total, limit)):
        launch(step, run, state, fanout, machines)


def launch(
    step: Step,
    parent: Run,
    state: ParallelState | MapState,
    fanout: Fanout,
    machines: MachineCache,
) -> None:
    """Create the next child run at its machine's StartAt and queue its first step."""
    child = launch_child(parent, fanout)
    child.state = machines.machine_at(step.record.definition, child.machine).start_at
    child.last_event_id = fanout.started_event_id
    if isinstance(state, MapState) and not child.quiet:
        step.event(child, "MapIterationStarted", {"index": child.index, "name": state.name})
    step.save(child)
    step.writes.messages.append(Message(step.record.arn, child.id, 0, Kind.ENTER))


def report_to_parent(
    step: Step,
    run: Run,
    store: Store,
    machines: MachineCache,
    output: Any = None,
    error: tuple[str, str | None] | None = None,
) -> None:
    """A child ended: record its result, launch a sibling if one waits, join if last."""
    run.status = RunStatus.DONE
    run.seq += 1
    step.save(run)
    assert run.parent is not None
    parent = store.load_run(step.record.arn, run.parent)
    fanout = store.load_fanout(step.record.arn, run.parent)
    if parent is None or fanout is None or fanout.failure is not None:
        return
    state = machines.machine_at(step.record.definition, parent.machine).states[parent.state]
    assert isinstance(state, ParallelState | MapState)
    if isinstance(state, MapState) and not run.quiet:
        kind = "MapIterationFailed" if error else "MapIterationSucceeded"
        step.event(run, kind, {"index": run.index, "name": state.name})
    decision = child_finished(fanout, run.index, output, error)
    step.writes.fanouts[parent.id] = fanout
    if decision.launch_next:
        launch(step, parent, state, fanout, machines)
    if decision.join:
        parent.last_event_id = run.last_event_id
        step.save(parent)
        step.writes.messages.append(Message(step.record.arn, parent.id, parent.seq, Kind.JOIN))
