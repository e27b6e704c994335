"""What the service needs of an engine, and the embedded engine behind it (the Redis
engine is `engine_redis.RedisEngine`).

`ExecutionEngine` is the whole contract: start, stop, read, wait for an end, hear about
ends. `EmbeddedEngine` runs the embedded default (MemoryStore + InlineDispatcher) on a
background thread: the engine is single-threaded, so every call from a request thread is
posted to the loop thread (`InlineDispatcher.call_soon`) and its result comes back
through a `concurrent.futures.Future`. Records handed out are copies taken on the loop
thread, so request threads never see a step half-applied.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from integrations.registry import HandlerRegistry
from integrations.settings import IntegrationSettings
from scheduler.engine.clock import Clock
from scheduler.engine.engine import EngineSettings
from scheduler.engine.map_runs import MapRunLimits
from scheduler.engine.messages import Message
from scheduler.engine.records import (
    Event,
    ExecutionRecord,
    ExecutionStatus,
    MapRun,
    StateMachineType,
)
from scheduler.engine.store import StepWrites
from scheduler.runtime import EmbeddedRuntime

T = TypeVar("T")
EndListener = Callable[[ExecutionRecord], None]

log = logging.getLogger(__name__)


class ExecutionEngine(Protocol):
    """The engine as the service uses it; every method is safe from any thread."""

    def start_execution(
        self,
        *,
        arn: str,
        name: str,
        state_machine_arn: str,
        definition: str,
        input_value: Any,
        role_arn: str,
        type_: StateMachineType,
        parent_token: str | None = None,
    ) -> ExecutionRecord | None:
        """Start an execution; None when one with this ARN exists (Engine.start_execution;
        `parent_token`: the `.sync` Task of a parent execution that waits for this one)."""

    def stop_execution(
        self, arn: str, error: str | None, cause: str | None
    ) -> ExecutionRecord | None:
        """Abort a running execution; its record (None if there is none)."""

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        """A copy of the execution's record, or None."""

    def list_executions(
        self, state_machine_arn: str, offset: int = 0, limit: int | None = None
    ) -> list[ExecutionRecord]:
        """Copies of the machine's execution records, newest first (start date, then ARN,
        descending), from `offset`, at most `limit`. New executions come first, so a
        record's offset only grows as executions start."""

    def history(self, arn: str) -> list[Event]:
        """The execution's events in id order."""

    def wait(self, arn: str, timeout: float) -> ExecutionRecord | None:
        """Block until the execution ends (or `timeout`); its record then."""

    def subscribe(self, listener: EndListener) -> None:
        """Call `listener(record)` whenever an execution ends (on the engine's thread)."""

    def on_forget(self, listener: Callable[[str], None]) -> None:
        """Call `listener(arn)` whenever the engine forgets an ended execution (its
        retention ran out), so what the service keeps beside it can go too."""

    def ready(self) -> bool:
        """Whether the engine can take work."""

    def map_runs_of(self, execution_arn: str) -> list[MapRun]:
        """The execution's map runs with their current counters."""

    def get_map_run(self, arn: str) -> MapRun | None:
        """A map run with its current counters, or None."""

    def update_map_run(self, arn: str, limits: MapRunLimits) -> bool:
        """New limits for a running map run; False when it is not running."""


class EmbeddedEngine:
    """The embedded engine, its loop on a background thread, behind `ExecutionEngine`."""

    def __init__(
        self,
        handlers: HandlerRegistry | None = None,
        *,
        settings: EngineSettings | None = None,
        clock: Clock | None = None,
        integrations: IntegrationSettings | None = None,
    ) -> None:
        runtime = EmbeddedRuntime(
            handlers, settings=settings, clock=clock, integrations=integrations
        )
        self.settings = runtime.settings
        self.invoker = runtime.invoker
        self.clock = runtime.clock
        self.account = runtime.account
        self.store = runtime.store
        self.dispatcher = runtime.dispatcher
        self.engine = runtime.engine
        self.engine.add_observer(self._observe)
        self._listeners: list[EndListener] = []
        self._waiters: dict[str, list[Future[ExecutionRecord | None]]] = {}
        self._thread: threading.Thread | None = None
        self._stopping = False

    # ----- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Run the engine loop on a background thread until `close`."""
        self._thread = threading.Thread(target=self._loop, name="stepline-engine", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        self.dispatcher.run(self._handle, until=lambda: self._stopping)

    def _handle(self, message: Message) -> None:
        try:
            self.engine.handle(message)
        except Exception:  # an engine bug must not stop every other execution
            log.exception("engine step failed for %s", message)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the loop (executions in flight stay where they are) and the task threads."""
        self._stopping = True
        thread = self._thread
        if thread is not None:
            self.dispatcher.call_soon(lambda: None)  # wake the loop so it sees `_stopping`
            thread.join(timeout)
        self.dispatcher.close()

    def ready(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    def call(self, function: Callable[[], T], timeout: float | None = 30.0) -> T:
        """Run `function` on the engine's thread and return its result (or raise its error)."""
        if threading.current_thread() is self._thread:
            return function()
        if not self.ready():
            raise RuntimeError("the embedded engine is not running")
        future: Future[T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(function())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

        self.dispatcher.call_soon(run)
        return future.result(timeout)

    # ----- ExecutionEngine -------------------------------------------------------------------

    def start_execution(
        self,
        *,
        arn: str,
        name: str,
        state_machine_arn: str,
        definition: str,
        input_value: Any,
        role_arn: str,
        type_: StateMachineType,
        parent_token: str | None = None,
    ) -> ExecutionRecord | None:
        def start() -> ExecutionRecord | None:
            record = self.engine.start_execution(
                arn=arn,
                name=name,
                state_machine_arn=state_machine_arn,
                definition=definition,
                input_value=input_value,
                role_arn=role_arn,
                type_=type_,
                parent_token=parent_token,
            )
            return copy.copy(record)

        return self.call(start)

    def stop_execution(
        self, arn: str, error: str | None, cause: str | None
    ) -> ExecutionRecord | None:
        return self.call(lambda: copy.copy(self.engine.stop_execution(arn, error, cause)))

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        return self.call(lambda: copy.copy(self.store.get_execution(arn)))

    def list_executions(
        self, state_machine_arn: str, offset: int = 0, limit: int | None = None
    ) -> list[ExecutionRecord]:
        return self.call(
            lambda: [
                copy.copy(r)
                for r in self.store.list_executions(state_machine_arn, offset=offset, limit=limit)
            ]
        )

    def history(self, arn: str) -> list[Event]:
        return self.call(lambda: self.store.history(arn))

    def wait(self, arn: str, timeout: float) -> ExecutionRecord | None:
        future: Future[ExecutionRecord | None] = Future()

        def register() -> None:
            record = self.store.get_execution(arn)
            if record is None or record.status != ExecutionStatus.RUNNING:
                future.set_result(copy.copy(record))
            else:
                self._waiters.setdefault(arn, []).append(future)

        self.call(register)
        try:
            return future.result(timeout)
        except TimeoutError:
            self.call(lambda: self._forget(arn, future))
            return self.get_execution(arn)

    def _forget(self, arn: str, future: Future[ExecutionRecord | None]) -> None:
        waiting = self._waiters.get(arn, [])
        if future in waiting:
            waiting.remove(future)
        if not waiting:
            self._waiters.pop(arn, None)

    def subscribe(self, listener: EndListener) -> None:
        self._listeners.append(listener)

    def on_forget(self, listener: Callable[[str], None]) -> None:
        self.store.forget_listeners.append(listener)

    def map_runs_of(self, execution_arn: str) -> list[MapRun]:
        return self.call(lambda: self.store.map_runs_of(execution_arn))

    def get_map_run(self, arn: str) -> MapRun | None:
        return self.call(lambda: self.store.get_map_run(arn))

    def update_map_run(self, arn: str, limits: MapRunLimits) -> bool:
        return self.call(lambda: self.engine.update_map_run(arn, limits))

    def _observe(self, writes: StepWrites) -> None:
        if writes.end is not None:
            record = self.store.get_execution(writes.execution.arn)
            if record is not None:
                self._ended(record)

    def _ended(self, record: ExecutionRecord) -> None:
        """On the loop thread, right after an execution's last step committed."""
        snapshot = copy.copy(record)
        for future in self._waiters.pop(record.arn, []):
            future.set_result(snapshot)
        for listener in self._listeners:
            try:
                listener(snapshot)
            except Exception:  # a listener's bug must not break the engine
                log.exception("execution-end listener failed")
