"""The dispatcher contract: how steps, timers and task calls reach whoever runs them.

Two implementations: `InlineDispatcher` (this process: a queue, a timer heap and a thread
pool for task calls) and a Celery dispatcher (tasks on a broker, timers in Redis).
"""

from __future__ import annotations

from typing import Protocol

from scheduler.engine.messages import Message, TaskRequest


class Dispatcher(Protocol):
    """Delivers messages to engine steps, now or at a due time, and runs task calls."""

    def send(self, message: Message) -> None:
        """Run a step as soon as possible."""

    def send_many(self, messages: list[Message]) -> None:
        """Run several steps as soon as possible (a dispatcher may batch them)."""

    def send_at(self, due: float, message: Message) -> None:
        """Run a step at epoch time `due` (already time-scaled)."""

    def invoke(self, request: TaskRequest) -> None:
        """Call a task resource; its outcome comes back as a TASK_DONE message."""

    def invoke_many(self, requests: list[TaskRequest]) -> None:
        """Call several task resources (a dispatcher may batch them)."""
