"""How the Celery dispatcher cuts a fan-out's steps and task calls into Celery messages.

The app here records `send_task` calls instead of reaching a broker: what is checked is
which messages the dispatcher composes (the cluster tests send them through a real one).
"""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.engine.messages import Kind, Message, TaskRequest
from workers.dispatcher import BATCH, MAX_BATCH, CeleryDispatcher

ARN = "arn:aws:states:us-east-1:123456789012:execution:orders:e1"


class RecordingApp:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[Any], str]] = []

    def send_task(self, name: str, args: list[Any], queue: str) -> None:
        self.sent.append((name, args, queue))


@pytest.mark.parametrize("count", [1, 2, 31, 33, 100, 1000, 10_000])
def test_every_step_goes_out_once_in_order_in_bounded_batches(count: int) -> None:
    app = RecordingApp()
    steps = [Message(ARN, f"0.{i}", 0, Kind.ENTER) for i in range(count)]
    CeleryDispatcher(app).send_many(steps)
    if count == 1:
        assert [name for name, _, _ in app.sent] == ["stepline.step"]
        return
    runs = [args[1] for _, (batch,), _ in app.sent for args in batch]
    assert runs == [m.run for m in steps]
    sizes = [len(batch) for _, (batch,), _ in app.sent]
    assert max(sizes) <= MAX_BATCH
    assert all(size >= BATCH for size in sizes[:-1])
    if count >= 8 * BATCH:
        assert len(sizes) >= 8  # both workers get a share of a large fan-out


def test_task_calls_of_a_batch_go_out_together_on_the_tasks_queue() -> None:
    app = RecordingApp()
    calls = [TaskRequest(ARN, f"0.{i}", 0, "noop", i, "T") for i in range(40)]
    CeleryDispatcher(app).invoke_many(calls)
    sent = {(name, queue) for name, _, queue in app.sent}
    assert sent == {("stepline.invokes", "stepline.tasks")}
    payloads = [call["payload"] for _, (batch,), _ in app.sent for call in batch]
    assert payloads == list(range(40))


def test_task_calls_of_several_executions_go_out_per_queue() -> None:
    app = RecordingApp()
    dispatcher = CeleryDispatcher(app, {"reports": "slow"})
    reports = ARN.replace(":orders:", ":reports:")
    calls = [TaskRequest(arn, "0", 1, "noop", i, "T") for i, arn in enumerate([ARN, reports] * 3)]
    dispatcher.invoke_many(calls)
    sent = {queue: [call["payload"] for call in batch] for _, (batch,), queue in app.sent}
    assert sent == {"stepline.tasks": [0, 2, 4], "slow.tasks": [1, 3, 5]}


def test_routed_state_machines_batch_to_their_own_queues() -> None:
    app = RecordingApp()
    dispatcher = CeleryDispatcher(app, {"orders": "fast"})
    dispatcher.send_many([Message(ARN, f"0.{i}", 0, Kind.ENTER) for i in range(3)])
    dispatcher.invoke_many([TaskRequest(ARN, f"0.{i}", 0, "noop", i, "T") for i in range(3)])
    assert [queue for _, _, queue in app.sent] == ["fast.steps", "fast.tasks"]
