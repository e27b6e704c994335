"""The embedded default: run executions in this process, with no server and no setup.

`EmbeddedRuntime` wires the engine to the in-memory store, the in-process dispatcher and
the local handler registry. `run()` starts an execution and drives it to completion.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from integrations.invoke import Invoker
from integrations.registry import HandlerRegistry
from integrations.settings import IntegrationSettings
from scheduler.arns import Account
from scheduler.engine.clock import Clock, SystemClock
from scheduler.engine.engine import Engine, EngineSettings
from scheduler.engine.history import to_aws_event
from scheduler.engine.inline import InlineDispatcher
from scheduler.engine.memory_store import MemoryStore
from scheduler.engine.records import ExecutionRecord, ExecutionStatus, StateMachineType


def start_named(
    engine: Engine,
    account: Account,
    definition: str | dict[str, Any],
    input_value: Any = None,
    *,
    name: str | None = None,
    machine_name: str = "stepline",
    role_arn: str = "",
    type_: StateMachineType = StateMachineType.STANDARD,
) -> ExecutionRecord:
    """Start an execution of `definition` as state machine `machine_name`, forming the
    ARNs as AWS does (Express executions under `express:`). Raises ValueError when an
    execution of that name exists."""
    text = definition if isinstance(definition, str) else json.dumps(definition)
    execution_name = name or str(uuid.uuid4())
    if type_ == StateMachineType.EXPRESS:
        arn = account.express_execution(machine_name, execution_name, str(uuid.uuid4()))
    else:
        arn = account.execution(machine_name, execution_name)
    record = engine.start_execution(
        arn=arn,
        type_=type_,
        name=execution_name,
        state_machine_arn=account.state_machine(machine_name),
        definition=text,
        input_value={} if input_value is None else input_value,
        role_arn=role_arn,
    )
    if record is None:
        raise ValueError(f"an execution named '{execution_name}' already exists")
    return record


class EmbeddedRuntime:
    """An engine over the embedded store and the in-process dispatcher."""

    def __init__(
        self,
        handlers: HandlerRegistry | None = None,
        *,
        settings: EngineSettings | None = None,
        clock: Clock | None = None,
        integrations: IntegrationSettings | None = None,
    ) -> None:
        """`integrations`: endpoints and connections of the HTTP and AWS integrations
        (None: read from the config file and environment when first used)."""
        self.settings = settings or EngineSettings()
        self.clock = clock or SystemClock()
        self.account = Account(self.settings.region, self.settings.account)
        self.invoker = Invoker(handlers, self.account, integrations)
        self.store = MemoryStore(keep_finished=self.settings.keep_finished)
        self.dispatcher = InlineDispatcher(self.clock, self.invoker)
        self.engine = Engine(self.store, self.dispatcher, clock=self.clock, settings=self.settings)

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
        """Validate the definition and start an execution (run it with `wait`)."""
        return start_named(
            self.engine,
            self.account,
            definition,
            input_value,
            name=name,
            machine_name=machine_name,
            role_arn=role_arn,
            type_=type_,
        )

    def wait(self, record: ExecutionRecord, timeout: float | None = None) -> ExecutionRecord:
        """Drive the engine until `record` is no longer RUNNING."""
        deadline = None if timeout is None else self.clock.now() + timeout

        def finished() -> bool:
            current = self.store.get_execution(record.arn)
            if current is not None and current.status != ExecutionStatus.RUNNING:
                return True
            return deadline is not None and self.clock.now() >= deadline

        self.dispatcher.run(self.engine.handle, until=finished)
        final = self.store.get_execution(record.arn)
        assert final is not None
        return final

    def run(
        self,
        definition: str | dict[str, Any],
        input_value: Any = None,
        *,
        name: str | None = None,
        machine_name: str = "stepline",
        role_arn: str = "",
        type_: StateMachineType = StateMachineType.STANDARD,
        timeout: float | None = None,
    ) -> ExecutionRecord:
        """Start an execution and run it to its end."""
        started = self.start(
            definition,
            input_value,
            name=name,
            machine_name=machine_name,
            role_arn=role_arn,
            type_=type_,
        )
        return self.wait(started, timeout)

    def history(self, record: ExecutionRecord) -> list[dict[str, Any]]:
        """The execution's history as GetExecutionHistory's `events`."""
        return [to_aws_event(event) for event in self.store.history(record.arn)]

    def close(self) -> None:
        """Release the task threads."""
        self.dispatcher.close()
