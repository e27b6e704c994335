"""`stepline server`: the API and the embedded engine in one process.

uvicorn serves the app and handles Ctrl-C and SIGTERM: it stops taking requests, lets
those in flight finish, and returns; then the engine's loop and task threads stop.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Generator

import uvicorn

from integrations.registry import HandlerRegistry
from scheduler.api.app import create_app
from scheduler.api.metrics import Metrics
from scheduler.arns import Account
from scheduler.config import Settings
from scheduler.service import EmbeddedEngine, MemoryKV, build_service

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


def serve(
    settings: Settings,
    handlers: HandlerRegistry,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    log_level: str = "info",
) -> int:
    """Serve the API on the embedded engine until interrupted; the exit code."""
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    engine = EmbeddedEngine(handlers, settings=settings.engine_settings())
    service = build_service(
        engine,
        MemoryKV(),
        account=Account(settings.region, settings.account),
        max_payload_bytes=settings.max_payload_bytes,
        unknown_fields_are_errors=settings.unknown_fields != "warn",
    )
    metrics = Metrics()
    engine.subscribe(metrics.execution_ended)
    app = create_app(
        service, metrics=metrics, ready=engine.ready, max_payload_bytes=settings.max_payload_bytes
    )
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off"
    )
    server = _Server(config)
    engine.start()
    print(
        f"stepline: serving the AWS Step Functions API on http://{host}:{port} (embedded engine; "
        f"handlers: {', '.join(handlers.names()) or 'none'})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.run()
    finally:
        engine.close()
    return 0 if server.started else 1
