"""Nested executions: a `states:startExecution.sync` (or `.sync:2`) Task waits for its child.

The child's record keeps the parent Task's token (`ExecutionRecord.parent_token`); when the
child ends, the engine sends the parent a CHILD_ENDED step, which ends the Task with what
AWS gives it: DescribeExecution's response (`Output` as JSON text for `.sync`, parsed for
`.sync:2`), or `States.TaskFailed` with that response as the cause when the child failed,
timed out or was aborted. A poll timer on the parent (`POLL_SECONDS`) catches an end whose
message was lost (a worker killed between the child's last commit and the send).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from scheduler.engine.messages import Kind, Message
from scheduler.engine.records import ExecutionRecord, ExecutionStatus
from scheduler.engine.tokens import parse_token

START_EXECUTION = "arn:aws:states:::states:startExecution"
SYNC = START_EXECUTION + ".sync"
SYNC_2 = START_EXECUTION + ".sync:2"
#: How often a parent Task looks at its running child, should the end message be lost.
POLL_SECONDS = 60.0
TASK_FAILED = "States.TaskFailed"


def waits_for_child(resource: str) -> bool:
    """Whether a Task resource runs a child execution to its end (`.sync`, `.sync:2`)."""
    return resource in (SYNC, SYNC_2)


def epoch_millis(timestamp: float) -> int:
    """A date as Step Functions' optimized integrations give it: epoch milliseconds."""
    return int(round(timestamp * 1000))


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def start_response(record: ExecutionRecord) -> dict[str, Any]:
    """StartExecution's response as `states:startExecution` returns it to the state machine."""
    body = _json({"executionArn": record.arn, "startDate": record.start_date})
    request_id = str(uuid.uuid4())
    headers = {
        "Content-Length": str(len(body.encode("utf-8"))),
        "Content-Type": "application/x-amz-json-1.0",
        "Date": "",
        "connection": "keep-alive",
        "x-amzn-RequestId": request_id,
    }
    return {
        "ExecutionArn": record.arn,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {key: [value] for key, value in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StartDate": epoch_millis(record.start_date),
    }


def describe_output(record: ExecutionRecord, parsed: bool) -> dict[str, Any]:
    """DescribeExecution's response for an ended child, as the `.sync` Task gets it
    (`parsed`: `.sync:2`, Input and Output as JSON values rather than text)."""
    output: dict[str, Any] = {
        "ExecutionArn": record.arn,
        "Input": record.input if parsed else _json(record.input),
        "InputDetails": {"Included": True},
        "Name": record.name,
        "StartDate": epoch_millis(record.start_date),
        "StateMachineArn": record.state_machine_arn,
        "Status": record.status.value,
    }
    if record.stop_date is not None:
        output["StopDate"] = epoch_millis(record.stop_date)
    if record.status == ExecutionStatus.SUCCEEDED:
        output["Output"] = record.output if parsed else _json(record.output)
        output["OutputDetails"] = {"Included": True}
    if record.error is not None:
        output["Error"] = record.error
    if record.cause is not None:
        output["Cause"] = record.cause
    return output


def task_outcome(record: ExecutionRecord, resource: str) -> dict[str, Any]:
    """How the parent's Task ends for an ended child: a TASK_DONE message's data."""
    described = describe_output(record, parsed=resource == SYNC_2)
    if record.status == ExecutionStatus.SUCCEEDED:
        return {"result": described}
    return {"error": TASK_FAILED, "cause": _json(described)}


def parent_message(record: ExecutionRecord) -> Message | None:
    """The step that tells a `.sync` child's parent the child ended (None: no parent)."""
    if record.parent_token is None:
        return None
    arn, run_id, seq = parse_token(record.parent_token)
    return Message(arn, run_id, seq, Kind.CHILD_ENDED, {"child": record.arn})
