"""The Celery dispatcher: engine steps and task calls become Celery tasks.

Timers are not sent anywhere: the step that sets one commits it to Redis, and the
scheduler process (`stepline scheduler`) fires it when due.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduler.engine.messages import Message, TaskRequest
from scheduler.engine.records import shallow_dict
from workers.app import STEPS_QUEUE, TASKS_QUEUE

BATCH = 32
"""Steps (or task calls) per Celery message when many are sent at once, at least: enough
to amortise a hop."""
MAX_BATCH = 128
"""At most: a batch commits in one Lua call, which holds Redis for its duration."""
SHARES = 8
"""A large fan-out is cut into about this many messages, so that every worker gets a share
while each message still carries as many steps as it can."""


def batch_size(count: int) -> int:
    """How many of `count` steps (or task calls) go in each Celery message."""
    return min(MAX_BATCH, max(BATCH, -(-count // SHARES)))


def message_args(message: Message) -> list[Any]:
    """A message as a Celery task argument (JSON)."""
    return [message.execution, message.run, message.seq, message.kind.value, message.data]


class CeleryDispatcher:
    """Sends steps to `stepline.steps` and task calls to `stepline.tasks` (or, for state
    machines routed elsewhere, to `PREFIX.steps` / `PREFIX.tasks`)."""

    def __init__(self, app: Any, routes: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.routes = dict(routes or {})

    def _queue(self, execution_arn: str, default: str) -> str:
        if not self.routes:
            return default
        prefix = self.routes.get(machine_name(execution_arn))
        return default if prefix is None else f"{prefix}.{default.rsplit('.', 1)[1]}"

    def send(self, message: Message) -> None:
        queue = self._queue(message.execution, STEPS_QUEUE)
        self.app.send_task("stepline.step", args=[message_args(message)], queue=queue)

    def send_many(self, messages: list[Message]) -> None:
        """Many steps in few Celery messages: a Map's or Parallel's children go out in
        batches, each run by one worker in turn (a hop per batch, not per child). The
        messages of one step all belong to one execution, hence to one queue."""
        if len(messages) == 1:
            self.send(messages[0])
            return
        queue = self._queue(messages[0].execution, STEPS_QUEUE)
        args = [message_args(m) for m in messages]
        self._send_batches("stepline.steps", queue, args, batch_size(len(args)))

    def send_mixed(self, messages: list[Message]) -> None:
        """Steps of any executions (first steps gathered by `Coalescing`): one Celery
        message per queue and up to MAX_BATCH steps; a worker applies each execution's
        steps together and the others one by one."""
        by_queue: dict[str, list[Message]] = {}
        for message in messages:
            by_queue.setdefault(self._queue(message.execution, STEPS_QUEUE), []).append(message)
        for queue, group in by_queue.items():
            if len(group) == 1:
                self.app.send_task("stepline.step", args=[message_args(group[0])], queue=queue)
            else:
                args = [message_args(m) for m in group]
                self._send_batches("stepline.steps", queue, args, MAX_BATCH)

    def send_at(self, due: float, message: Message) -> None:
        """Nothing to do: the timer is already in Redis (committed with its step)."""

    def invoke(self, request: TaskRequest) -> None:
        queue = self._queue(request.execution, TASKS_QUEUE)
        self.app.send_task("stepline.invoke", args=[shallow_dict(request)], queue=queue)

    def invoke_many(self, requests: list[TaskRequest]) -> None:
        """Task calls made together (a batch of a Map's children, or the first calls of
        executions started together) in few Celery messages per queue: each message's
        calls run on threads and their outcomes are applied together."""
        if len(requests) == 1:
            self.invoke(requests[0])
            return
        by_queue: dict[str, list[dict[str, Any]]] = {}
        for request in requests:
            queue = self._queue(request.execution, TASKS_QUEUE)
            by_queue.setdefault(queue, []).append(shallow_dict(request))
        for queue, args in by_queue.items():
            self._send_batches("stepline.invokes", queue, args, batch_size(len(args)))

    def _send_batches(self, task: str, queue: str, args: list[Any], size: int) -> None:
        """`args` as Celery messages of `task`, `size` items each."""
        for start in range(0, len(args), size):
            self.app.send_task(task, args=[args[start : start + size]], queue=queue)


def machine_name(execution_arn: str) -> str:
    """The state machine an execution (or express execution) ARN belongs to."""
    parts = execution_arn.split(":")
    return parts[6] if len(parts) > 6 else ""
