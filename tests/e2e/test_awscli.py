"""A handful of flows with the real AWS CLI (`aws stepfunctions --endpoint-url ...`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROLE, Server, definition, unique

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function"

#: The CLI against the embedded server and the all-in-one server on Redis (not `api`,
#: which serves the same code as the latter: each CLI call costs a second).
pytestmark = pytest.mark.parametrize("server", ["embedded", "server-redis"], indirect=True)


def aws_command() -> list[str]:
    """The `aws` of this environment (the awscli package), as a command line."""
    beside = Path(sys.executable).with_name("aws")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("aws")
    if found:
        return [found]
    pytest.skip("the AWS CLI (awscli) is not installed")


def aws(server: Server, *args: str, expect_ok: bool = True, **extra_env: str) -> Any:
    env = {**os.environ, **extra_env, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_PAGER": "", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    done = subprocess.run(
        [*aws_command(), "stepfunctions", *args, "--endpoint-url", server.url, "--output",
         "json"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    if not expect_ok:
        assert done.returncode != 0
        return done.stderr
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_create_start_describe_history(server: Server, tmp_path: Path) -> None:
    text = definition(D={"Type": "Task", "Resource": f"{LAMBDA}:double", "End": True})
    (tmp_path / "machine.json").write_text(text)
    created = aws(server, "create-state-machine", "--name", unique("cli"),
                  "--definition", f"file://{tmp_path / 'machine.json'}", "--role-arn", ROLE)
    assert created["stateMachineArn"].startswith("arn:aws:states:us-east-1:123456789012:")
    started = aws(server, "start-execution", "--state-machine-arn", created["stateMachineArn"],
                  "--input", '{"n": 8}')
    deadline = time.monotonic() + 10
    described = aws(server, "describe-execution", "--execution-arn", started["executionArn"])
    while described["status"] == "RUNNING" and time.monotonic() < deadline:
        described = aws(server, "describe-execution", "--execution-arn",
                        started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"n": 16}
    history = aws(server, "get-execution-history", "--execution-arn", started["executionArn"])
    types = [event["type"] for event in history["events"]]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert "LambdaFunctionSucceeded" in types


def test_stop_a_running_execution(server: Server) -> None:
    created = aws(server, "create-state-machine", "--name", unique("cli-wait"), "--definition",
                  definition(W={"Type": "Wait", "Seconds": 600, "End": True}),
                  "--role-arn", ROLE)
    started = aws(server, "start-execution", "--state-machine-arn", created["stateMachineArn"],
                  "--name", "long")
    stopped = aws(server, "stop-execution", "--execution-arn", started["executionArn"],
                  "--error", "Operator", "--cause", "not needed")
    assert "stopDate" in stopped
    described = aws(server, "describe-execution", "--execution-arn", started["executionArn"])
    assert (described["status"], described["error"]) == ("ABORTED", "Operator")
    listed = aws(server, "list-executions", "--state-machine-arn", created["stateMachineArn"],
                 "--status-filter", "ABORTED")
    assert [e["name"] for e in listed["executions"]] == ["long"]


def test_errors_reach_the_cli_with_their_aws_codes(server: Server) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:not-there"
    stderr = aws(server, "describe-state-machine", "--state-machine-arn", missing,
                 expect_ok=False)
    assert "StateMachineDoesNotExist" in stderr
    stderr = aws(server, "create-state-machine", "--name", "bad name", "--definition",
                 definition(P={"Type": "Pass", "End": True}), "--role-arn", ROLE,
                 expect_ok=False)
    assert "InvalidName" in stderr


def test_start_sync_execution_without_the_sync_host_prefix(server: Server) -> None:
    created = aws(server, "create-state-machine", "--name", unique("cli-sync"), "--type",
                  "EXPRESS", "--definition",
                  definition(D={"Type": "Task", "Resource": f"{LAMBDA}:double", "End": True}),
                  "--role-arn", ROLE)
    result = aws(server, "start-sync-execution", "--state-machine-arn",
                 created["stateMachineArn"], "--input", '{"n": 3}',
                 AWS_DISABLE_HOST_PREFIX_INJECTION="true")
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"n": 6}


def finished(server: Server, execution_arn: str) -> Any:
    """DescribeExecution through the CLI until the execution leaves RUNNING (10 s at most)."""
    deadline = time.monotonic() + 10
    described = aws(server, "describe-execution", "--execution-arn", execution_arn)
    while described["status"] == "RUNNING" and time.monotonic() < deadline:
        described = aws(server, "describe-execution", "--execution-arn", execution_arn)
    return described


def test_redrive_a_failed_execution(server: Server) -> None:
    created = aws(server, "create-state-machine", "--name", unique("cli-redrive"),
                  "--definition", definition(Flaky={
                      "Type": "Task", "Resource": f"{LAMBDA}:flaky_once", "End": True,
                      "Parameters": {"redrives.$": "$$.Execution.RedriveCount"}}),
                  "--role-arn", ROLE)
    started = aws(server, "start-execution", "--state-machine-arn", created["stateMachineArn"])
    failed = finished(server, started["executionArn"])
    assert (failed["status"], failed["redriveStatus"]) == ("FAILED", "REDRIVABLE")
    redriven = aws(server, "redrive-execution", "--execution-arn", started["executionArn"])
    assert "redriveDate" in redriven
    done = finished(server, started["executionArn"])
    assert (done["status"], done["redriveCount"]) == ("SUCCEEDED", 1)
    assert json.loads(done["output"]) == {"redrives": 1}


def test_an_activity_worked_through_the_cli(server: Server) -> None:
    activity = aws(server, "create-activity", "--name", unique("cli-approve"))["activityArn"]
    created = aws(server, "create-state-machine", "--name", unique("cli-activity"),
                  "--definition", definition(Approve={
                      "Type": "Task", "Resource": activity, "End": True}),
                  "--role-arn", ROLE)
    started = aws(server, "start-execution", "--state-machine-arn", created["stateMachineArn"],
                  "--input", '{"order": 7}')
    task = aws(server, "get-activity-task", "--activity-arn", activity, "--worker-name", "cli")
    assert json.loads(task["input"]) == {"order": 7}
    aws(server, "send-task-heartbeat", "--task-token", task["taskToken"])
    aws(server, "send-task-success", "--task-token", task["taskToken"],
        "--task-output", '{"approved": true}')
    done = finished(server, started["executionArn"])
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"approved": True}
    stderr = aws(server, "send-task-success", "--task-token", task["taskToken"],
                 "--task-output", "{}", expect_ok=False)
    assert "TaskTimedOut" in stderr  # the task is closed, as AWS answers
    listed = aws(server, "list-activities")["activities"]
    assert activity in [a["activityArn"] for a in listed]
    aws(server, "delete-activity", "--activity-arn", activity)
