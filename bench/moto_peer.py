"""The peer: the same workloads on moto's ASL interpreter, driven through boto3 in-process.

moto 5.x executes state machines for real only when `execute_state_machine` is set in its
`stepfunctions` config (the `mock_aws(config=...)` argument); otherwise StartExecution just
records a SUCCEEDED execution without running anything. With it set, moto hands the
definition to its copy of LocalStack's interpreter, which runs each execution on a
background thread, so completion is awaited by polling DescribeExecution.

Two moto 5.2 quirks are worked around without touching moto:

* StartExecution deep-copies the state machine, and the state machine refers to its
  backend, which holds every state machine and execution so far; a finished execution's
  worker holds locks that cannot be copied, so the second StartExecution in one backend
  fails with `TypeError: cannot pickle '_thread.RLock' object` (even on a different state
  machine). Each measured execution therefore runs in its own `mock_aws` context (a fresh
  backend) with its own state machine, both set up outside the timed region.
* An execution started without a `name` is named "None", so a second one collides:
  every execution is given a unique name.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
import moto
from moto import mock_aws

from bench.workloads import Workload

MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}}
ROLE_ARN = "arn:aws:iam::123456789012:role/stepline-bench"
POLL_SECONDS = 0.01
"""Sleep between DescribeExecution polls (short: the runs take about a second)."""


@dataclass(frozen=True, slots=True)
class MotoRun:
    """One measured moto execution."""

    status: str
    wall_seconds: float
    """From just before StartExecution until DescribeExecution first shows it finished."""
    engine_seconds: float
    """stopDate - startDate as moto records them (excludes polling latency)."""
    states_entered: int
    output: Any
    """The execution's output, parsed (None when it has none)."""


def moto_version() -> str:
    """The installed moto version."""
    return str(moto.__version__)


def run_moto(workload: Workload, repeats: int, timeout: float) -> list[MotoRun]:
    """Run `workload` `repeats` times on moto; each run is abandoned after `timeout` s."""
    definition = json.dumps(workload.definition)
    payload = json.dumps(workload.input_value)
    return [_run_once(definition, payload, f"{workload.name}-{i}", timeout) for i in range(repeats)]


def _run_once(definition: str, payload: str, name: str, timeout: float) -> MotoRun:
    """In a fresh moto backend, create the state machine, run one execution, wait for it."""
    with mock_aws(config=MOTO_CONFIG):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        return _measure(client, definition, payload, name, timeout)


def _measure(client: Any, definition: str, payload: str, name: str, timeout: float) -> MotoRun:
    """Start one execution of a new state machine and time it to its end."""
    machine_arn = client.create_state_machine(name=name, definition=definition, roleArn=ROLE_ARN)[
        "stateMachineArn"
    ]
    started = time.perf_counter()
    execution_arn = client.start_execution(stateMachineArn=machine_arn, name=name, input=payload)[
        "executionArn"
    ]
    description = _wait(client, execution_arn, started + timeout)
    wall = time.perf_counter() - started
    if description["status"] == "RUNNING":
        client.stop_execution(executionArn=execution_arn, error="Bench.Timeout")
    engine = _engine_seconds(description, wall)
    output = json.loads(description["output"]) if "output" in description else None
    entered = _states_entered(client, execution_arn)
    return MotoRun(description["status"], wall, engine, entered, output)


def _wait(client: Any, execution_arn: str, deadline: float) -> dict[str, Any]:
    """Poll DescribeExecution until the execution leaves RUNNING or `deadline` passes."""
    while True:
        description: dict[str, Any] = client.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING" or time.perf_counter() >= deadline:
            return description
        time.sleep(POLL_SECONDS)


def _engine_seconds(description: dict[str, Any], fallback: float) -> float:
    """moto's own start-to-stop duration, or `fallback` while it has no stopDate."""
    stop = description.get("stopDate")
    if stop is None:
        return fallback
    return float((stop - description["startDate"]).total_seconds())


def _states_entered(client: Any, execution_arn: str) -> int:
    """Count `*StateEntered` events (moto returns the whole history in one page)."""
    events = client.get_execution_history(executionArn=execution_arn)["events"]
    return sum(1 for event in events if event["type"].endswith("StateEntered"))
