"""Starting executions on the private cluster and waiting for them; every wait is bounded.

Executions are started in this process with the engine's `start_execution` (what the API
server does for StartExecution) and are done when their record's status is no longer
RUNNING. One execution at a time is timed by the wall clock, its end heard through a
keyspace notification (`run`); many at once are polled for (`wait`) and timed by their
records' dates: `start_date` is stamped before the execution is created in Redis and its
first step sent, `stop_date` is the time the step that ended it began (so that step's
own work, about a millisecond for a short one, is left out).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bench.cluster_setup import PREFIX, BenchCluster
from bench.workloads import Workload
from scheduler.arns import Account
from scheduler.engine.records import ExecutionStatus

POLL_CHUNK = 500
"""Status reads per pipelined round trip while waiting."""
MAX_POLL_INTERVAL = 0.05


@dataclass(frozen=True, slots=True)
class Finished:
    """One execution as its record shows it after the wait (ended or not)."""

    arn: str
    status: str
    start_date: float
    stop_date: float | None
    transitions: int
    output_ok: bool
    """Its output is the workload's expected output."""

    @property
    def seconds(self) -> float | None:
        """Start to finish by the execution's own dates; None while it runs."""
        return None if self.stop_date is None else self.stop_date - self.start_date

    def ok(self, workload: Workload) -> bool:
        """SUCCEEDED, with the expected output and count of states entered."""
        return (
            self.status == ExecutionStatus.SUCCEEDED
            and self.output_ok
            and self.transitions == workload.transitions
        )


class ClusterClient:
    """Starts, waits for and reads back executions on a `BenchCluster`."""

    def __init__(self, cluster: BenchCluster) -> None:
        self.cluster = cluster
        settings = cluster.runtime.settings
        self.account = Account(settings.region, settings.account)
        self._texts: dict[str, str] = {}

    def new_arn(self, workload: Workload) -> str:
        """A fresh execution ARN under the workload's state machine."""
        return self.account.execution(f"bench-{workload.name}", uuid.uuid4().hex)

    def start(self, workload: Workload, arn: str | None = None) -> str:
        """Start one execution of `workload` (under `arn` if given); its ARN."""
        text = self._texts.setdefault(workload.name, json.dumps(workload.definition))
        arn = arn or self.new_arn(workload)
        machine, _, name = arn.rpartition(":execution:")[2].partition(":")
        record = self.cluster.runtime.engine.start_execution(
            arn=arn,
            name=name,
            state_machine_arn=self.account.state_machine(machine),
            definition=text,
            input_value=workload.input_value,
        )
        if record is None:
            raise RuntimeError(f"execution {arn} already exists")
        return arn

    def wait(self, arns: list[str], timeout: float, interval: float = 0.002) -> list[str]:
        """Poll until every execution has ended or `timeout` passed; the ones still running.

        The pause between polls starts at `interval` and grows to a fiftieth of the time
        waited so far (at most `MAX_POLL_INTERVAL`), so long waits cost little CPU.
        """
        pending = list(arns)
        started = time.monotonic()
        while pending and time.monotonic() - started < timeout:
            pending = self._still_running(pending)
            if pending:
                waited = time.monotonic() - started
                time.sleep(min(MAX_POLL_INTERVAL, max(interval, waited / 50)))
        return pending

    def _still_running(self, arns: list[str]) -> list[str]:
        """The executions among `arns` whose status is RUNNING (pipelined reads)."""
        running: list[str] = []
        for offset in range(0, len(arns), POLL_CHUNK):
            chunk = arns[offset : offset + POLL_CHUNK]
            pipe = self.cluster.poller.pipeline(transaction=False)
            for arn in chunk:
                pipe.hget(exec_key(arn), "status")
            statuses = pipe.execute()
            running += [
                arn for arn, status in zip(chunk, statuses, strict=True) if status == "RUNNING"
            ]
        return running

    def finished(self, workload: Workload, arn: str) -> Finished:
        """Read an execution's record back."""
        record = self.cluster.runtime.store.get_execution(arn)
        if record is None:
            raise RuntimeError(f"execution {arn} is missing from Redis")
        return Finished(
            arn=arn,
            status=str(record.status),
            start_date=record.start_date,
            stop_date=record.stop_date,
            transitions=record.transitions,
            output_ok=record.output == workload.expected_output,
        )

    def run(self, workload: Workload, timeout: float) -> tuple[Finished, float]:
        """Run one execution to its end (stopped after `timeout`); it and its wall time.

        The wall time runs from just before StartExecution until this process hears, by
        a keyspace notification on the execution's record hash, that its status left
        RUNNING: no polling delay, and the last step's own work is included.
        """
        arn = self.new_arn(workload)
        channel = f"__keyspace@0__:{exec_key(arn)}"
        pubsub = self.cluster.notifier.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel)
        try:
            started = time.perf_counter()
            self.start(workload, arn)
            ended = self._wait_notified(pubsub, arn, timeout)
            wall = time.perf_counter() - started
        finally:
            pubsub.close()
        if not ended:
            self.cluster.runtime.engine.stop_execution(arn, "Bench.Timeout", "benchmark timeout")
        return self.finished(workload, arn), wall

    def _wait_notified(self, pubsub: Any, arn: str, timeout: float) -> bool:
        """Wait for the execution's record to leave RUNNING; False after `timeout`.

        The status is read again after every HSET on the record (ids and counters are
        HINCRBYs, so most commits wake nothing), and once before the first wait.
        """
        deadline = time.monotonic() + timeout
        while self._still_running([arn]):
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                message = pubsub.get_message(timeout=min(remaining, 0.5))
                if message is not None and message["data"] == "hset":
                    break
        return True

    def states_entered(self, arn: str) -> int:
        """`*StateEntered` events in the execution's history."""
        history = self.cluster.runtime.store.history(arn)
        return sum(1 for event in history if event.type.endswith("StateEntered"))


def exec_key(arn: str) -> str:
    """The execution's record hash (`docs/architecture.md`, Keys)."""
    return f"{PREFIX}x:{arn}:exec"


def events_key(arn: str) -> str:
    """The execution's history list (`docs/architecture.md`, Keys)."""
    return f"{PREFIX}x:{arn}:events"
