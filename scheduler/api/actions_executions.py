"""Execution actions: Start, StartSync, Describe, Stop, List, history, and the machine an
execution runs."""

from __future__ import annotations

import json
import math
from typing import Any

from scheduler.api.protocol import Action, Context, date, drop_none
from scheduler.engine.lifecycle import redrive_status
from scheduler.engine.records import ExecutionRecord, ExecutionStatus, StateMachineType
from scheduler.service.errors import ValidationException
from scheduler.service.records import ExecutionOrigin


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _payloads(record: ExecutionRecord, include_data: bool) -> dict[str, Any]:
    """`input`/`output` as JSON text with their `*Details`, as DescribeExecution has them."""
    succeeded = record.status == ExecutionStatus.SUCCEEDED
    return drop_none(
        {
            "input": _json(record.input) if include_data else None,
            "inputDetails": {"included": include_data},
            "output": _json(record.output) if include_data and succeeded else None,
            "outputDetails": {"included": include_data} if succeeded else None,
        }
    )


def _redrive(record: ExecutionRecord) -> dict[str, Any]:
    if record.type == StateMachineType.EXPRESS:
        return {}
    status = redrive_status(record)
    reason = None
    if status == "NOT_REDRIVABLE":
        reason = f"Execution is {record.status.value} and cannot be redriven"
    return drop_none(
        {
            "redriveCount": record.redrive_count,
            "redriveStatus": status,
            "redriveStatusReason": reason,
        }
    )


def describe_execution_result(
    record: ExecutionRecord, origin: ExecutionOrigin, include_data: bool = True
) -> dict[str, Any]:
    """DescribeExecution's response for `record`."""
    return drop_none(
        {
            "executionArn": record.arn,
            "stateMachineArn": record.state_machine_arn,
            "name": record.name,
            "status": record.status.value,
            "startDate": date(record.start_date),
            "stopDate": date(record.stop_date),
            **_payloads(record, include_data),
            "error": record.error,
            "cause": record.cause,
            "traceHeader": origin.trace_header,
            "stateMachineVersionArn": origin.version_arn,
            "stateMachineAliasArn": origin.alias_arn,
            **_redrive(record),
        }
    )


def start_execution(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    started = ctx.service.executions.start(
        body["stateMachineArn"], body.get("name"), body.get("input"), body.get("traceHeader")
    )
    if started.created:
        ctx.metrics.started.labels(started.record.type.value).inc()
    return {"executionArn": started.record.arn, "startDate": date(started.record.start_date)}


def start_sync_execution(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    record, origin = ctx.service.executions.start_sync(
        body["stateMachineArn"], body.get("name"), body.get("input"), body.get("traceHeader")
    )
    ctx.metrics.started.labels(record.type.value).inc()
    include_data = (body.get("includedData") or "ALL_DATA") == "ALL_DATA"
    stop = record.stop_date if record.stop_date is not None else record.start_date
    return drop_none(
        {
            "executionArn": record.arn,
            "stateMachineArn": record.state_machine_arn,
            "name": record.name,
            "startDate": date(record.start_date),
            "stopDate": date(stop),
            "status": record.status.value,
            "error": record.error,
            "cause": record.cause,
            **_payloads(record, include_data),
            "traceHeader": origin.trace_header,
            "billingDetails": {
                "billedMemoryUsedInMB": 64,
                "billedDurationInMilliseconds": 100 * math.ceil((stop - record.start_date) * 10),
            },
        }
    )


def describe_execution(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    record, origin = ctx.service.executions.describe(body["executionArn"])
    include_data = (body.get("includedData") or "ALL_DATA") == "ALL_DATA"
    return describe_execution_result(record, origin, include_data)


def stop_execution(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    record = ctx.service.executions.stop(body["executionArn"], body.get("error"), body.get("cause"))
    return {"stopDate": date(record.stop_date)}


def list_executions(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    machine_arn, map_run_arn = body.get("stateMachineArn"), body.get("mapRunArn")
    if (machine_arn is None) == (map_run_arn is None):
        raise ValidationException("Must provide a StateMachine ARN or a MapRun ARN, not both")
    if map_run_arn is not None:
        # A map run's children are branches of its execution here: none to list.
        ctx.service.map_runs.executions(str(map_run_arn))
        return {"executions": []}
    pairs, token = ctx.service.executions.list_executions(
        str(machine_arn),
        status=body.get("statusFilter"),
        redrive_filter=body.get("redriveFilter"),
        max_results=body.get("maxResults"),
        token=body.get("nextToken"),
    )
    listed = [
        drop_none(
            {
                "executionArn": record.arn,
                "stateMachineArn": record.state_machine_arn,
                "name": record.name,
                "status": record.status.value,
                "startDate": date(record.start_date),
                "stopDate": date(record.stop_date),
                "stateMachineVersionArn": origin.version_arn,
                "stateMachineAliasArn": origin.alias_arn,
                "redriveCount": 0 if record.type == StateMachineType.STANDARD else None,
            }
        )
        for record, origin in pairs
    ]
    return drop_none({"executions": listed, "nextToken": token})


def get_execution_history(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    include = body.get("includeExecutionData")
    events, token = ctx.service.executions.history(
        body["executionArn"],
        reverse=bool(body.get("reverseOrder")),
        include_data=True if include is None else bool(include),
        max_results=body.get("maxResults"),
        token=body.get("nextToken"),
    )
    return drop_none({"events": events, "nextToken": token})


def describe_state_machine_for_execution(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    found = ctx.service.executions.machine_for(body["executionArn"])
    config = found.config
    return drop_none(
        {
            "stateMachineArn": found.machine_arn,
            "name": found.name,
            "definition": config.definition,
            "roleArn": config.role_arn,
            "updateDate": date(found.update_date),
            "loggingConfiguration": config.logging,
            "tracingConfiguration": config.tracing,
            "encryptionConfiguration": config.encryption,
            "revisionId": found.revision_id,
        }
    )


ACTIONS: dict[str, Action] = {
    "StartExecution": start_execution,
    "StartSyncExecution": start_sync_execution,
    "DescribeExecution": describe_execution,
    "StopExecution": stop_execution,
    "ListExecutions": list_executions,
    "GetExecutionHistory": get_execution_history,
    "DescribeStateMachineForExecution": describe_state_machine_for_execution,
}
