"""`stepline server` and `stepline api`: the API over an engine, until Ctrl-C or SIGTERM.

Three ways to run it, each a `Backend` (an engine, the registry's store, and what runs
beside them):

- `embedded_backend`: `stepline server` with nothing configured. The embedded engine's
  loop on a thread; state in this process's memory.
- `cluster_backend(workers=N, timers=True)`: `stepline server` with REDIS_URL set, the
  all-in-one process group for one machine. The Redis engine, the timer loop on a thread
  and N `stepline worker` child processes.
- `cluster_backend()`: `stepline api`, the API alone beside `stepline worker` and
  `stepline scheduler` processes running elsewhere.

The port is bound before anything starts (a port in use stops it at once). uvicorn
serves the app and handles Ctrl-C and SIGTERM: it stops taking requests, lets those in
flight finish and returns; then the backend stops (timers, workers, engine).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import uvicorn

from integrations.invoke import Invoker
from integrations.registry import HandlerRegistry
from integrations.states import register_nested
from scheduler.api.app import create_app
from scheduler.api.metrics import Metrics
from scheduler.arns import Account
from scheduler.config import Settings
from scheduler.service import EmbeddedEngine, ExecutionEngine, KeyValue, MemoryKV, build_service

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8083
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn's server, ending on Ctrl-C or SIGTERM without re-raising the signal (uvicorn
    does, which would kill the process before the engine is stopped and exit non-zero)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@dataclass
class Backend:
    """An engine, the registry's key-value store, and what runs beside them."""

    engine: ExecutionEngine
    kv: KeyValue
    description: str
    invokers: list[Invoker] = field(default_factory=list)
    """Invokers in this process whose nested executions (`states:*`) the service runs."""
    starts: list[Callable[[], None]] = field(default_factory=list)
    """Called in order by `start`."""
    stops: list[Callable[[], None]] = field(default_factory=list)
    """Called in order by `close`."""

    def start(self) -> None:
        for start in self.starts:
            start()

    def close(self) -> None:
        for stop in self.stops:
            try:
                stop()
            except Exception:  # stop the rest anyway
                logging.getLogger(__name__).exception("stopping %s", stop)


def embedded_backend(settings: Settings, handlers: HandlerRegistry) -> Backend:
    """The embedded engine (state in this process's memory)."""
    engine = EmbeddedEngine(
        handlers,
        settings=settings.engine_settings(),
        integrations=settings.integration_settings(),
    )
    return Backend(
        engine, MemoryKV(), "embedded engine", [engine.invoker], [engine.start], [engine.close]
    )


def cluster_backend(
    settings: Settings,
    handlers: HandlerRegistry | None = None,
    *,
    workers: int = 0,
    concurrency: int | None = None,
    handler_specs: Sequence[str] = (),
    timers: bool = False,
    worker_env: dict[str, str] | None = None,
) -> Backend:
    """The Redis engine at `settings.redis_url`; with `workers` and `timers`, the worker
    processes and the timer loop as well (the all-in-one `stepline server`)."""
    from scheduler.api.processes import TimerThread, WorkerProcesses
    from scheduler.service.engine_redis import RedisEngine

    engine = RedisEngine.from_settings(settings, handlers)
    parts = [f"Redis engine at {_safe_url(settings.redis_url or '')}"]
    backend = Backend(engine, engine.registry_kv(), "")
    group = None
    if workers > 0:  # first, before any thread of ours runs: they are forked
        env = worker_env if worker_env is not None else dict(os.environ)
        group = WorkerProcesses(workers, env=env, handlers=handler_specs, concurrency=concurrency)
        backend.starts.append(group.start)
        parts.append(f"{workers} worker process{'es' if workers > 1 else ''}")
    backend.starts.append(engine.start)
    if timers:
        timer_thread = TimerThread(engine.runtime)
        backend.starts.append(timer_thread.start)
        backend.stops.append(timer_thread.stop)
        parts.append("timers")
    if group is not None:
        backend.stops.append(group.stop)
    backend.stops.append(engine.close)
    backend.description = ", ".join(parts)
    return backend


def _safe_url(url: str) -> str:
    """`url` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _bind(host: str, port: int) -> socket.socket | None:
    """A socket bound to `host:port` (None, and the reason on stderr, if it cannot be)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say TCP (without
    # it, every response waits ~40 ms for the client's delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        print(f"stepline: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return None
    return sock


def serve(
    settings: Settings,
    handlers: HandlerRegistry,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    log_level: str = "info",
    backend: Backend | None = None,
) -> int:
    """Serve the API until interrupted (on the embedded engine unless `backend` says
    otherwise); the exit code."""
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if backend is None:
        backend = embedded_backend(settings, handlers)
    service = build_service(
        backend.engine,
        backend.kv,
        account=Account(settings.region, settings.account),
        max_payload_bytes=settings.max_payload_bytes,
        unknown_fields_are_errors=settings.unknown_fields != "warn",
        express_history=settings.express_history,
    )
    for invoker in backend.invokers:
        register_nested(invoker, lambda: service)
    metrics = Metrics()
    backend.engine.subscribe(metrics.execution_ended)
    app = create_app(
        service,
        metrics=metrics,
        ready=backend.engine.ready,
        max_payload_bytes=settings.max_payload_bytes,
    )
    listening = _bind(host, port)  # before anything starts: a port in use stops it here
    if listening is None:
        return 1
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off"
    )
    server = _Server(config)
    try:
        backend.start()
        print(
            f"stepline: serving the AWS Step Functions API on http://{host}:{port} "
            f"({backend.description}; handlers: {', '.join(handlers.names()) or 'none'})",
            file=sys.stderr,
            flush=True,
        )
        server.run(sockets=[listening])
    finally:
        listening.close()
        backend.close()
    return 0 if server.started else 1
