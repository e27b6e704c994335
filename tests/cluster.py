"""A runtime facade over a local cluster (workers/local_cluster.py) that tests use exactly
like the embedded runtime (`run`, `start`, `wait`, `history`)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import Any

from scheduler.arns import Account
from scheduler.config import load_settings
from scheduler.engine.engine import Engine
from scheduler.engine.history import to_aws_event
from scheduler.engine.records import ExecutionRecord, ExecutionStatus
from scheduler.runtime import start_named
from workers.runtime import WorkerRuntime, build_runtime


def toml_table(table: Mapping[str, str]) -> str:
    """A config file's table body: one `"name" = "value"` line per entry, sorted."""
    return "\n".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(table.items()))


class ClusterRuntime:
    """Starts executions on the cluster and waits for them, like EmbeddedRuntime."""

    def __init__(self, redis_url: str, env: Mapping[str, str]) -> None:
        # The processes' settings, read without changing this process's environment.
        settings = load_settings(environ={**os.environ, **env}, redis_url=redis_url)
        self.runtime: WorkerRuntime = build_runtime(settings)
        self.engine: Engine = self.runtime.engine
        self.store = self.runtime.store
        self.account = Account(settings.region, settings.account)

    def start(
        self, definition: str | dict[str, Any], input_value: Any = None, **options: Any
    ) -> ExecutionRecord:
        return start_named(self.engine, self.account, definition, input_value, **options)

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
