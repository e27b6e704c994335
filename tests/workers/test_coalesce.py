"""`Coalescing`: first steps sent at about the same time share one Celery message, and
each still goes out exactly once.

The app here records `send_task` calls instead of reaching a broker: what is checked is
which messages are composed; the e2e tests run the same dispatcher in `stepline server`
with Redis and real workers.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from scheduler.engine.messages import Kind, Message
from workers.coalesce import Coalescing
from workers.dispatcher import MAX_BATCH, CeleryDispatcher


def arn(machine: str, name: str) -> str:
    return f"arn:aws:states:us-east-1:123456789012:execution:{machine}:{name}"


class RecordingApp:
    def __init__(self, failures: int = 0) -> None:
        self.sent: list[tuple[str, list[Any], str]] = []
        self.failures = failures
        self.lock = threading.Lock()

    def send_task(self, name: str, args: list[Any], queue: str) -> None:
        with self.lock:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("broker down")
            self.sent.append((name, args, queue))

    def steps(self) -> list[str]:
        """The executions of every step sent, in order."""
        with self.lock:
            sent = list(self.sent)
        out = []
        for name, (payload,), _ in sent:
            out.extend([payload[0]] if name == "stepline.step" else [a[0] for a in payload])
        return out


def first_steps(count: int, machine: str = "orders") -> list[Message]:
    return [Message(arn(machine, f"e{i}"), "0", 0, Kind.ENTER) for i in range(count)]


def test_steps_held_together_go_out_as_one_message_each_once() -> None:
    app = RecordingApp()
    dispatcher = Coalescing(CeleryDispatcher(app), linger_seconds=60)
    messages = first_steps(50)
    for message in messages:
        dispatcher.send_many([message])  # how start_execution sends a first step
    assert app.sent == []  # held
    dispatcher.flush()
    assert [name for name, _, _ in app.sent] == ["stepline.steps"]
    assert app.steps() == [m.execution for m in messages]


def test_the_flusher_sends_everything_once_without_being_asked() -> None:
    app = RecordingApp()
    dispatcher = Coalescing(CeleryDispatcher(app), linger_seconds=0.005)
    messages = first_steps(300)
    senders = [
        threading.Thread(target=lambda part=part: [dispatcher.send(m) for m in part])
        for part in (messages[i::4] for i in range(4))
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    deadline = time.monotonic() + 10
    while len(app.steps()) < len(messages) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(app.steps()) == sorted(m.execution for m in messages)
    assert all(
        len(payload) <= MAX_BATCH for name, (payload,), _ in app.sent if name == "stepline.steps"
    )


def test_each_routed_machine_keeps_its_queue() -> None:
    app = RecordingApp()
    dispatcher = Coalescing(CeleryDispatcher(app, {"reports": "slow"}), linger_seconds=60)
    for message in [*first_steps(2, "orders"), *first_steps(2, "reports")]:
        dispatcher.send(message)
    dispatcher.flush()
    assert sorted(queue for _, _, queue in app.sent) == ["slow.steps", "stepline.steps"]


def test_a_broker_error_is_logged_and_later_steps_still_go_out() -> None:
    app = RecordingApp(failures=1)
    dispatcher = Coalescing(CeleryDispatcher(app), linger_seconds=0.001)
    lost, kept = first_steps(2)
    dispatcher.send(lost)  # its lease in Redis runs out and the sweep re-sends it
    deadline = time.monotonic() + 10
    while app.failures and time.monotonic() < deadline:
        time.sleep(0.01)
    dispatcher.send(kept)
    while not app.sent and time.monotonic() < deadline:
        time.sleep(0.01)
    assert app.steps() == [kept.execution]
