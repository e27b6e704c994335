"""The Redis + Celery engine behind `ExecutionEngine`: `stepline api`, and `stepline server`
when REDIS_URL is set.

`Engine` over `RedisStore` keeps no per-execution state in the process, so request threads
call it directly: a start commits to Redis and hands the first step to Celery; workers
run the rest. Reads go to the store. Ends are heard on the store's pub/sub channel (every
commit that ends an execution PUBLISHes its ARN, whichever worker made it): one listener
thread resolves waiters (StartSyncExecution) and tells subscribers about the executions
started through this process, so metrics summed over several API processes count each
end once. A message missed while the connection to Redis was down is made up for: after
every reconnection, and every few seconds for waiters, the store is asked directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import redis
from kombu import Connection  # type: ignore[attr-defined]

from integrations.registry import HandlerRegistry
from scheduler.config import Settings
from scheduler.engine.map_runs import MapRunLimits
from scheduler.engine.records import (
    Event,
    ExecutionRecord,
    ExecutionStatus,
    MapRun,
    StateMachineType,
)
from scheduler.service.engines import EndListener
from scheduler.service.kv_redis import RedisKV
from workers.coalesce import Coalescing
from workers.runtime import WorkerRuntime, build_runtime

log = logging.getLogger(__name__)

#: How often waiters are checked against the store (in case an end message was missed).
RECHECK_SECONDS = 2.0
#: Timeout of the readiness probes (Redis PING, broker connection).
PROBE_SECONDS = 2.0
START_LINGER_SECONDS = 0.002
"""How long a started execution's first step waits for others to share its Celery message:
two milliseconds of latency buy one worker hop for every execution started meanwhile."""
_RECHECK_BATCH = 1000


def _connect_to_broker(url: str) -> None:
    """Open (and close) a connection to the Celery broker; raises if it cannot."""
    broker: Any = Connection(url, connect_timeout=PROBE_SECONDS)  # type: ignore[no-untyped-call]
    with broker:
        broker.ensure_connection(max_retries=1, timeout=PROBE_SECONDS)


class _EndsPubSub(redis.client.PubSub):
    """A pub/sub connection that notes each (re)connection: messages may have been missed."""

    connected = False

    def on_connect(self, connection: Any) -> None:
        super().on_connect(connection)
        self.connected = True


class RedisEngine:
    """The distributed engine as the service uses it (`ExecutionEngine`)."""

    def __init__(self, runtime: WorkerRuntime, *, track_ends: bool = True) -> None:
        """`track_ends`: remember the executions started here to tell subscribers of their
        ends (False in workers, which start nested executions and have no subscribers)."""
        self.runtime = runtime
        self._track_ends = track_ends
        self.engine = runtime.engine
        self.store = runtime.store
        self.settings = runtime.engine.settings
        self._lock = threading.Lock()
        self._waiters: dict[str, list[Future[ExecutionRecord | None]]] = {}
        self._ours: set[str] = set()
        self._listeners: list[EndListener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pubsub: _EndsPubSub | None = None
        url = runtime.settings.redis_url or "redis://127.0.0.1:6379/0"
        self._probe = redis.Redis.from_url(
            url, socket_timeout=PROBE_SECONDS, socket_connect_timeout=PROBE_SECONDS
        )
        self._broker_url = str(runtime.dispatcher.app.conf.broker_url or url)
        self._broker_is_redis = self._broker_url == url

    @classmethod
    def from_settings(
        cls, settings: Settings, handlers: HandlerRegistry | None = None
    ) -> RedisEngine:
        """The engine on the Redis at `settings.redis_url` (and its Celery broker). First
        steps of the executions it starts are gathered for START_LINGER_SECONDS."""
        return cls(build_runtime(settings, handlers or HandlerRegistry(), START_LINGER_SECONDS))

    def registry_kv(self) -> RedisKV:
        """The service registry's key-value store, beside the executions in the same Redis."""
        return RedisKV(self.store.client, prefix=self.store.prefix + "registry:")

    # ----- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe to the ends channel (before returning, unless Redis is down: then the
        listener thread keeps trying) and start the listener thread."""
        self._pubsub = _EndsPubSub(
            self.store.client.connection_pool, ignore_subscribe_messages=True
        )
        try:
            self._pubsub.subscribe(self.store.ends_channel)
        except redis.RedisError as exc:
            log.warning("cannot subscribe to execution ends yet: %s", exc)
        self._thread = threading.Thread(target=self._listen, name="stepline-ends", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Send any first steps still held; stop listening; executions go on in the
        workers."""
        if isinstance(self.runtime.dispatcher, Coalescing):
            self.runtime.dispatcher.flush()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pubsub is not None:
            self._pubsub.close()
        self._probe.close()

    def ready(self) -> bool:
        """Redis answers, the broker accepts a connection, and the listener runs."""
        if self._thread is None or not self._thread.is_alive() or self._stop.is_set():
            return False
        try:
            self._probe.ping()
            if not self._broker_is_redis:
                _connect_to_broker(self._broker_url)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            log.warning("not ready: %s", exc)
            return False
        return True

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
        with self._lock:  # before the start: a fast execution may end before it returns
            tracked = self._track_ends and arn not in self._ours
            if tracked:
                self._ours.add(arn)
        record = None
        try:
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
        finally:
            if record is None and tracked:
                with self._lock:
                    self._ours.discard(arn)
        return record

    def stop_execution(
        self, arn: str, error: str | None, cause: str | None
    ) -> ExecutionRecord | None:
        return self.engine.stop_execution(arn, error, cause)

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        return self.store.get_execution(arn)

    def list_executions(
        self, state_machine_arn: str, offset: int = 0, limit: int | None = None
    ) -> list[ExecutionRecord]:
        return self.store.list_executions(state_machine_arn, offset=offset, limit=limit)

    def history(self, arn: str) -> list[Event]:
        return self.store.history(arn)

    def wait(self, arn: str, timeout: float) -> ExecutionRecord | None:
        future: Future[ExecutionRecord | None] = Future()
        with self._lock:  # registered before looking, so an end in between is not missed
            self._waiters.setdefault(arn, []).append(future)
        record = self.store.get_execution(arn)
        if record is None or record.status != ExecutionStatus.RUNNING:
            self._forget(arn, future)
            return record
        try:
            return future.result(timeout)
        except TimeoutError:
            self._forget(arn, future)
            return self.store.get_execution(arn)

    def subscribe(self, listener: EndListener) -> None:
        self._listeners.append(listener)

    def on_forget(self, listener: Callable[[str], None]) -> None:
        """Nothing to call: Redis keeps every Standard execution, and the service keeps
        nothing beside an Express one it does not keep (see `Executions.start`)."""

    def map_runs_of(self, execution_arn: str) -> list[MapRun]:
        return self.store.map_runs_of(execution_arn)

    def get_map_run(self, arn: str) -> MapRun | None:
        return self.store.get_map_run(arn)

    def update_map_run(self, arn: str, limits: MapRunLimits) -> bool:
        return self.engine.update_map_run(arn, limits)

    # ----- hearing about ends ----------------------------------------------------------------

    def _forget(self, arn: str, future: Future[ExecutionRecord | None]) -> None:
        with self._lock:
            waiting = self._waiters.get(arn, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._waiters.pop(arn, None)

    def _listen(self) -> None:
        pubsub = self._pubsub
        assert pubsub is not None
        next_check = time.monotonic() + RECHECK_SECONDS
        while not self._stop.is_set():
            try:
                if not pubsub.channels:  # Redis was down at start
                    pubsub.subscribe(self.store.ends_channel)
                message = pubsub.get_message(timeout=0.5)
                if pubsub.connected:
                    pubsub.connected = False
                    self._recheck(everything=True)
                if message is not None and message.get("type") == "message":
                    self._ended(str(message["data"]))
                if time.monotonic() >= next_check:
                    self._recheck(everything=False)
                    next_check = time.monotonic() + RECHECK_SECONDS
            except redis.RedisError as exc:
                log.warning("listening for execution ends: %s; retrying", exc)
                self._stop.wait(1.0)
            except Exception:  # a bug here must not stop every later notification
                log.exception("execution-end listener failed")
                self._stop.wait(0.1)

    def _recheck(self, *, everything: bool) -> None:
        """Ask the store about waited-for (and, after a reconnection, our) executions."""
        with self._lock:
            arns = set(self._waiters) | (self._ours if everything else set())
        ordered = sorted(arns)
        for start in range(0, len(ordered), _RECHECK_BATCH):
            chunk = ordered[start : start + _RECHECK_BATCH]
            pipe = self.store.client.pipeline(transaction=False)
            for arn in chunk:  # the execution hash of RedisStore's key layout
                pipe.hget(f"{self.store.prefix}x:{arn}:exec", "status")
            for arn, status in zip(chunk, pipe.execute(), strict=True):
                if status is not None and status != ExecutionStatus.RUNNING.value:
                    self._ended(arn)

    def _ended(self, arn: str) -> None:
        """An execution ended: resolve its waiters, and tell subscribers if it is ours."""
        with self._lock:
            futures = self._waiters.pop(arn, [])
            ours = arn in self._ours
            self._ours.discard(arn)
        if not futures and not (ours and self._listeners):
            return
        record = self.store.get_execution(arn)
        for future in futures:
            if not future.done():
                future.set_result(record)
        if ours and record is not None:
            for listener in self._listeners:
                try:
                    listener(record)
                except Exception:  # a listener's bug must not break the others
                    log.exception("execution-end listener failed")
