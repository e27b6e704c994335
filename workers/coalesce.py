"""Gathering single steps sent at about the same time into one Celery message.

An API process starting hundreds of executions a second sends each one's first step on
its own; every Celery message costs a worker about a millisecond of CPU however little
it carries. `Coalescing` holds such steps for `linger_seconds` (a couple of
milliseconds) and sends what gathered as one message, so a worker pays one hop for many
executions. Nothing is lost if the process dies while holding some: each step was
committed to Redis with a lease before it was handed here, and the scheduler's sweep
re-sends it when the lease runs out.
"""

from __future__ import annotations

import logging
import threading
import time

from scheduler.engine.messages import Message, TaskRequest
from workers.dispatcher import CeleryDispatcher

log = logging.getLogger("stepline")


class Coalescing:
    """A Celery dispatcher whose single `send`s wait up to `linger_seconds` for company;
    everything else goes straight through."""

    def __init__(self, inner: CeleryDispatcher, linger_seconds: float) -> None:
        self.inner = inner
        self.app = inner.app
        self.linger_seconds = linger_seconds
        self._pending: list[Message] = []
        self._ready = threading.Condition()
        self._flusher: threading.Thread | None = None

    def send(self, message: Message) -> None:
        with self._ready:
            self._pending.append(message)
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_forever, name="stepline-coalesce", daemon=True
                )
                self._flusher.start()
            self._ready.notify()

    def send_many(self, messages: list[Message]) -> None:
        if len(messages) == 1:
            self.send(messages[0])
        else:
            self.inner.send_many(messages)

    def send_at(self, due: float, message: Message) -> None:
        self.inner.send_at(due, message)

    def invoke(self, request: TaskRequest) -> None:
        self.inner.invoke(request)

    def invoke_many(self, requests: list[TaskRequest]) -> None:
        self.inner.invoke_many(requests)

    def flush(self) -> None:
        """Send whatever is held now (at shutdown)."""
        with self._ready:
            pending, self._pending = self._pending, []
        if pending:
            self.inner.send_mixed(pending)

    def _flush_forever(self) -> None:
        while True:
            with self._ready:
                while not self._pending:
                    self._ready.wait()
            time.sleep(self.linger_seconds)  # let steps sent meanwhile join this message
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the sweep re-sends them; keep flushing
                log.exception("could not send held steps; the sweep will re-send them")
