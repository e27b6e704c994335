"""What a worker process holds: one engine over the Redis store and Celery dispatch,
the handler registry, built on first use from the settings and the environment."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from integrations.invoke import Invoker
from integrations.registry import HandlerRegistry
from integrations.states import ServiceSource, register_nested
from scheduler.arns import Account
from scheduler.config import Settings, load_settings
from scheduler.engine.engine import Engine
from scheduler.engine.redis_store import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_PREFIX,
    RedisStore,
    redis_client,
)
from workers.app import make_app
from workers.coalesce import Coalescing
from workers.dispatcher import CeleryDispatcher

TASK_THREADS = 32
"""Task calls a worker process makes at once for `stepline.invokes` (slow calls overlap)."""


@dataclass
class WorkerRuntime:
    """The engine and its parts in a worker (or any process that starts executions)."""

    settings: Settings
    store: RedisStore
    dispatcher: CeleryDispatcher | Coalescing
    engine: Engine
    invoker: Invoker
    calls: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(TASK_THREADS, thread_name_prefix="stepline-task")
    )
    """Threads for the task calls of `stepline.invokes` messages (started on first use)."""


def build_runtime(
    settings: Settings, handlers: HandlerRegistry | None = None, linger_seconds: float = 0.0
) -> WorkerRuntime:
    """Wire the distributed configuration: RedisStore + CeleryDispatcher. With
    `linger_seconds`, single steps are gathered into shared Celery messages (`Coalescing`:
    for processes that start many executions, like the API)."""
    url = settings.redis_url or "redis://127.0.0.1:6379/0"
    client = redis_client(url)
    store = RedisStore(
        client,
        prefix=os.environ.get("STEPLINE_PREFIX", DEFAULT_PREFIX),
        lease_seconds=float(os.environ.get("STEPLINE_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)),
    )
    broker = os.environ.get("STEPLINE_BROKER_URL") or url
    celery = CeleryDispatcher(make_app(broker), settings.queue_routes)
    dispatcher = Coalescing(celery, linger_seconds) if linger_seconds > 0 else celery
    engine_settings = replace(settings.engine_settings(), express_in_one_step=True)
    engine = Engine(store, dispatcher, settings=engine_settings)
    if handlers is None:
        handlers = HandlerRegistry()
        handlers.load_all(settings.handler_paths)
        handlers.load_mapping(dict(settings.handlers))
    invoker = Invoker(
        handlers, Account(settings.region, settings.account), settings.integration_settings()
    )
    runtime = WorkerRuntime(settings, store, dispatcher, engine, invoker)
    register_nested(invoker, _service_source(runtime))
    return runtime


def _service_source(runtime: WorkerRuntime) -> ServiceSource:
    """The Step Functions service over this runtime's Redis, built when a nested
    execution first needs it (state machines are read from the registry in Redis)."""
    lock = threading.Lock()
    built: list[Any] = []

    def service() -> Any:
        with lock:
            if not built:
                # late: scheduler.service.engine_redis imports this module
                from scheduler.service import build_service
                from scheduler.service.engine_redis import RedisEngine

                settings = runtime.settings
                engine = RedisEngine(runtime, track_ends=False)
                built.append(
                    build_service(
                        engine,
                        engine.registry_kv(),
                        account=Account(settings.region, settings.account),
                        max_payload_bytes=settings.max_payload_bytes,
                        unknown_fields_are_errors=settings.unknown_fields != "warn",
                    )
                )
            return built[0]

    return service


_lock = threading.Lock()
_runtime: WorkerRuntime | None = None


def worker_runtime() -> WorkerRuntime:
    """This process's runtime, built once from the settings (config file, environment)."""
    global _runtime
    with _lock:
        if _runtime is None:
            extra = [p for p in os.environ.get("STEPLINE_HANDLERS", "").split(os.pathsep) if p]
            settings = load_settings()
            if extra:
                settings = replace(settings, handler_paths=(*settings.handler_paths, *extra))
            _runtime = build_runtime(settings)
        return _runtime
