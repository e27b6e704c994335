"""A runtime facade over a local cluster (workers/local_cluster.py) that tests use exactly
like the embedded runtime (`run`, `start`, `wait`, `history`)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any

from scheduler.arns import Account
from scheduler.config import load_settings
from scheduler.engine.engine import Engine
from scheduler.engine.history import to_aws_event
from scheduler.engine.records import ExecutionRecord, ExecutionStatus, StateMachineType
from workers.runtime import WorkerRuntime, build_runtime


class ClusterRuntime:
    """Starts executions on the cluster and waits for them, like EmbeddedRuntime."""

    def __init__(self, redis_url: str, env: Mapping[str, str]) -> None:
        for key, value in env.items():
            os.environ.setdefault(key, value)
        settings = load_settings(redis_url=redis_url)
        self.runtime: WorkerRuntime = build_runtime(settings)
        self.engine: Engine = self.runtime.engine
        self.store = self.runtime.store
        self.account = Account(settings.region, settings.account)

    def start(
        self,
        definition: str | dict[str, Any],
        input_value: Any = None,
        *,
        name: str | None = None,
        machine_name: str = "stepline",
        role_arn: str = "",
        type_: StateMachineType = StateMachineType.STANDARD,
    ) -> ExecutionRecord:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        execution_name = name or str(uuid.uuid4())
        if type_ == StateMachineType.EXPRESS:
            arn = self.account.express_execution(machine_name, execution_name, str(uuid.uuid4()))
        else:
            arn = self.account.execution(machine_name, execution_name)
        record = self.engine.start_execution(
            arn=arn,
            name=execution_name,
            state_machine_arn=self.account.state_machine(machine_name),
            definition=text,
            input_value={} if input_value is None else input_value,
            role_arn=role_arn,
            type_=type_,
        )
        assert record is not None
        return record

    def wait(self, record: ExecutionRecord, timeout: float | None = 60) -> ExecutionRecord:
        deadline = time.monotonic() + (timeout or 60)
        while True:
            current = self.store.get_execution(record.arn)
            assert current is not None
            if current.status != ExecutionStatus.RUNNING or time.monotonic() > deadline:
                return current
            time.sleep(0.003)

    def run(
        self,
        definition: str | dict[str, Any],
        input_value: Any = None,
        *,
        timeout: float | None = 60,
        **options: Any,
    ) -> ExecutionRecord:
        return self.wait(self.start(definition, input_value, **options), timeout)

    def history(self, record: ExecutionRecord) -> list[dict[str, Any]]:
        return [to_aws_event(event) for event in self.store.history(record.arn)]

    def close(self) -> None:
        """Nothing to release: the processes belong to the Cluster."""
