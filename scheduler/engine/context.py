"""The context object (`$$`): what AWS tells a state about its execution and itself."""

from __future__ import annotations

from typing import Any

from scheduler.asl.model import AnyState, MapState, ParallelState, TaskState
from scheduler.engine.clock import iso_timestamp
from scheduler.engine.records import ExecutionRecord, Run, StateMachineType


def context_object(record: ExecutionRecord, run: Run, state: AnyState) -> dict[str, Any]:
    """`$$` for `state` of `run`: Execution, StateMachine and State members."""
    machine_name = record.state_machine_arn.rsplit(":", 1)[-1]
    state_ctx: dict[str, Any] = {
        "EnteredTime": iso_timestamp(run.entered_time),
        "Name": state.name,
    }
    if isinstance(state, TaskState | ParallelState | MapState):
        state_ctx["RetryCount"] = run.retry_count
    execution: dict[str, Any] = {
        "Id": record.arn,
        "Input": record.input,
        "Name": record.name,
        "RoleArn": record.role_arn,
        "StartTime": iso_timestamp(record.start_date),
    }
    if record.type == StateMachineType.STANDARD:
        execution["RedriveCount"] = record.redrive_count  # Express executions cannot redrive
    return {
        "Execution": execution,
        "StateMachine": {"Id": record.state_machine_arn, "Name": machine_name},
        "State": state_ctx,
    }
