"""Task tokens and redrive: SendTaskSuccess/Failure/Heartbeat, GetActivityTask,
RedriveExecution."""

from __future__ import annotations

import time
from typing import Any

from scheduler.api.protocol import Action, Context, date
from scheduler.service import tasks
from scheduler.service.test_state import test_state as run_test_state
from scheduler.service.test_state_request import parse_request


def send_task_success(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    tasks.send_task_success(ctx.service.engine, body["taskToken"], body["output"])
    return {}


def send_task_failure(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    tasks.send_task_failure(
        ctx.service.engine, body["taskToken"], body.get("error"), body.get("cause")
    )
    return {}


def send_task_heartbeat(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    tasks.send_task_heartbeat(ctx.service.engine, body["taskToken"])
    return {}


def get_activity_task(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    activity = ctx.service.activities.get(body["activityArn"])  # ActivityDoesNotExist
    return tasks.get_activity_task(ctx.service.engine, activity.arn, body.get("workerName"))


def redrive_execution(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    ctx.service.executions.describe(body["executionArn"])  # ExecutionDoesNotExist, InvalidArn
    tasks.redrive(ctx.service.engine, body["executionArn"])
    return {"redriveDate": date(time.time())}


def test_state(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return run_test_state(parse_request(body), tasks.task_caller(ctx.service.engine))


ACTIONS: dict[str, Action] = {
    "TestState": test_state,
    "SendTaskSuccess": send_task_success,
    "SendTaskFailure": send_task_failure,
    "SendTaskHeartbeat": send_task_heartbeat,
    "GetActivityTask": get_activity_task,
    "RedriveExecution": redrive_execution,
}
