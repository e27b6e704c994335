"""AWS history event types and details for each state type and task kind."""

from __future__ import annotations

from typing import Any

from integrations.resources import ResourceInfo

# Entered/Exited event prefix per state type, as in GetExecutionHistory.
STATE_EVENT_PREFIX = {
    "Pass": "PassState",
    "Task": "TaskState",
    "Choice": "ChoiceState",
    "Wait": "WaitState",
    "Succeed": "SucceedState",
    "Fail": "FailState",
    "Parallel": "ParallelState",
    "Map": "MapState",
}


def entered(state_type: str) -> str:
    """`PassStateEntered`, `TaskStateEntered`, ..."""
    return STATE_EVENT_PREFIX[state_type] + "Entered"


def exited(state_type: str) -> str:
    """`PassStateExited`, `TaskStateExited`, ..."""
    return STATE_EVENT_PREFIX[state_type] + "Exited"


def task_scheduled(
    info: ResourceInfo, payload: Any, timeout: float | None, region: str
) -> tuple[str, dict[str, Any]]:
    """LambdaFunctionScheduled for a function ARN, TaskScheduled for everything else."""
    if info.is_lambda_function:
        details: dict[str, Any] = {"resource": info.resource, "input": payload}
        if timeout is not None:
            details["timeoutInSeconds"] = int(timeout)
        return "LambdaFunctionScheduled", details
    details = {
        "resourceType": info.resource_type,
        "resource": info.name,
        "region": region,
        "parameters": payload,
    }
    if timeout is not None:
        details["timeoutInSeconds"] = int(timeout)
    return "TaskScheduled", details


def task_started(info: ResourceInfo) -> tuple[str, dict[str, Any] | None]:
    if info.is_lambda_function:
        return "LambdaFunctionStarted", None
    return "TaskStarted", {"resourceType": info.resource_type, "resource": info.name}


def task_succeeded(info: ResourceInfo, output: Any) -> tuple[str, dict[str, Any]]:
    if info.is_lambda_function:
        return "LambdaFunctionSucceeded", {"output": output}
    if info.resource_type == "activity":
        return "ActivitySucceeded", {"output": output}
    return "TaskSucceeded", {
        "resourceType": info.resource_type,
        "resource": info.name,
        "output": output,
    }


def task_failed(info: ResourceInfo, error: str, cause: str | None) -> tuple[str, dict[str, Any]]:
    details: dict[str, Any] = {"error": error}
    if cause is not None:
        details["cause"] = cause
    if info.is_lambda_function:
        return "LambdaFunctionFailed", details
    if info.resource_type == "activity":
        return "ActivityFailed", details
    return "TaskFailed", {"resourceType": info.resource_type, "resource": info.name, **details}


def task_timed_out(info: ResourceInfo, error: str, cause: str | None) -> tuple[str, dict[str, Any]]:
    details: dict[str, Any] = {"error": error}
    if cause is not None:
        details["cause"] = cause
    if info.is_lambda_function:
        return "LambdaFunctionTimedOut", details
    if info.resource_type == "activity":
        return "ActivityTimedOut", details
    return "TaskTimedOut", {"resourceType": info.resource_type, "resource": info.name, **details}


def error_details(error: str, cause: str | None) -> dict[str, Any]:
    """`{error, cause}` with cause left out when there is none."""
    details: dict[str, Any] = {"error": error}
    if cause is not None:
        details["cause"] = cause
    return details


def activity_scheduled(
    resource: str, payload: Any, timeout: float | None, heartbeat: float | None
) -> tuple[str, dict[str, Any]]:
    """ActivityScheduled: the task waits in the activity's queue for a worker."""
    details: dict[str, Any] = {"resource": resource, "input": payload}
    if timeout is not None:
        details["timeoutInSeconds"] = int(timeout)
    if heartbeat is not None:
        details["heartbeatInSeconds"] = int(heartbeat)
    return "ActivityScheduled", details


def task_submitted(info: ResourceInfo, output: Any) -> tuple[str, dict[str, Any]]:
    """TaskSubmitted: a `.waitForTaskToken` call went out; the token will end it."""
    return "TaskSubmitted", {
        "resourceType": info.resource_type,
        "resource": info.name,
        "output": output,
    }
