"""`Engine.handle_batch` over `Store.load_steps` / `Store.commit_many`: a fan-out's children
applied with one load and one commit, each step keeping its own compare-and-set.

Runs on both stores: the embedded MemoryStore and a RedisStore on the private
redis-server. The dispatcher here is an in-process queue the test drains by hand, so it can
deliver a batch twice or out of turn: the engine and the store are the real ones.
"""

from __future__ import annotations

import json
import uuid
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from scheduler.engine.engine import Engine
from scheduler.engine.memory_store import MemoryStore
from scheduler.engine.messages import Kind, Message, TaskRequest, key_of
from scheduler.engine.records import ExecutionStatus
from scheduler.engine.redis_store import RedisStore
from scheduler.engine.store import Store
from workers.local_cluster import RedisServer

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:batch"


class QueueDispatcher:
    """Keeps what the engine sends, in batches as `send_many` groups them."""

    def __init__(self) -> None:
        self.batches: deque[list[Message]] = deque()
        self.calls: list[TaskRequest] = []
        self.gathered: list[int] = []
        """How many calls each `invoke_many` carried."""

    def send(self, message: Message) -> None:
        self.batches.append([message])

    def send_many(self, messages: list[Message]) -> None:
        for start in range(0, len(messages), 8):
            self.batches.append(list(messages[start : start + 8]))

    def send_at(self, due: float, message: Message) -> None:
        self.batches.append([message])

    def invoke(self, request: TaskRequest) -> None:
        self.calls.append(request)

    def invoke_many(self, requests: list[TaskRequest]) -> None:
        self.calls.extend(requests)
        self.gathered.append(len(requests))


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    client = redis.Redis.from_url(server.url, decode_responses=True)
    yield RedisStore(client, prefix=f"batch-{uuid.uuid4().hex[:8]}:")
    client.close()


def pass_map(items: int) -> str:
    processor = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    return json.dumps(
        {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": processor, "End": True}}}
    )


def start(engine: Engine, definition: str, value: Any) -> str:
    arn = f"arn:aws:states:us-east-1:123456789012:execution:batch:{uuid.uuid4()}"
    engine.start_execution(
        arn=arn, name="x", state_machine_arn=MACHINE, definition=definition, input_value=value
    )
    return arn


def drain(engine: Engine, dispatcher: QueueDispatcher, replay: bool = False) -> None:
    """Apply every batch in turn; with `replay`, each batch twice (a redelivery)."""
    while dispatcher.batches:
        batch = dispatcher.batches.popleft()
        engine.handle_batch(batch)
        if replay:
            engine.handle_batch(batch)


def test_a_map_applied_in_batches_gives_the_output_in_item_order(store: Store) -> None:
    dispatcher = QueueDispatcher()
    engine = Engine(store, dispatcher)
    arn = start(engine, pass_map(20), list(range(20)))
    drain(engine, dispatcher)
    record = store.get_execution(arn)
    assert record is not None and record.status == ExecutionStatus.SUCCEEDED
    assert record.output == list(range(20))


def test_a_redelivered_batch_changes_neither_history_nor_output(store: Store) -> None:
    dispatcher = QueueDispatcher()
    engine = Engine(store, dispatcher)
    arn = start(engine, pass_map(20), list(range(20)))
    drain(engine, dispatcher, replay=True)
    record = store.get_execution(arn)
    assert record is not None and record.output == list(range(20))
    history = store.history(arn)
    types = [e.type for e in history]
    assert types.count("MapIterationStarted") == 20
    assert types.count("PassStateEntered") == 20
    assert [e.id for e in history] == list(range(1, len(history) + 1))


def test_a_stale_message_in_a_batch_changes_nothing_and_the_others_apply(store: Store) -> None:
    dispatcher = QueueDispatcher()
    engine = Engine(store, dispatcher)
    arn = start(engine, pass_map(4), list(range(4)))
    engine.handle_batch(dispatcher.batches.popleft())  # the Map starts its children
    children = dispatcher.batches.popleft()
    assert [m.run for m in children] == ["0.0", "0.1", "0.2", "0.3"]
    stale = Message(arn, "0.1", 7, Kind.ENTER)  # a seq the run never had
    engine.handle_batch([children[0], stale, *children[1:]])
    drain(engine, dispatcher)
    record = store.get_execution(arn)
    assert record is not None and record.output == [0, 1, 2, 3]
    assert [e.type for e in store.history(arn)].count("MapIterationStarted") == 4


def test_one_step_failing_in_a_batch_leaves_the_others_applied(store: Store) -> None:
    dispatcher = QueueDispatcher()
    engine = Engine(store, dispatcher)
    arn = start(engine, pass_map(3), list(range(3)))
    engine.handle_batch(dispatcher.batches.popleft())
    children = dispatcher.batches.popleft()
    # A task outcome for a run that sits at a Pass state: a bug-shaped message.
    broken = Message(arn, children[1].run, 0, Kind.TASK_DONE, {"result": 1})
    with pytest.raises(AssertionError):
        engine.handle_batch([children[0], broken, children[2]])
    assert [e.type for e in store.history(arn)].count("MapIterationStarted") == 2
    engine.handle_batch([children[1]])  # its real message, redelivered by the sweep
    drain(engine, dispatcher)
    record = store.get_execution(arn)
    assert record is not None and record.output == [0, 1, 2]
    assert [e.type for e in store.history(arn)].count("MapIterationStarted") == 3


def test_a_batch_of_several_executions_applies_each(store: Store) -> None:
    dispatcher = QueueDispatcher()
    engine = Engine(store, dispatcher)
    one = start(engine, pass_map(1), [1])
    two = start(engine, pass_map(1), [2])
    engine.handle_batch([dispatcher.batches.popleft()[0], dispatcher.batches.popleft()[0]])
    drain(engine, dispatcher)
    outputs = [store.get_execution(arn) for arn in (one, two)]
    assert [r.output for r in outputs if r is not None] == [[1], [2]]


def test_task_calls_of_a_batch_go_out_together(store: Store) -> None:
    dispatcher = QueueDispatcher()
    engine = Engine(store, dispatcher)
    processor = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "noop", "End": True}}}
    definition = json.dumps(
        {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": processor, "End": True}}}
    )
    arn = start(engine, definition, [1, 2, 3])
    drain(engine, dispatcher)
    assert [c.payload for c in dispatcher.calls] == [1, 2, 3]
    done = [
        Message(c.execution, c.run, c.seq, Kind.TASK_DONE, {"result": c.payload * 10})
        for c in dispatcher.calls
    ]
    engine.handle_batch(done)
    engine.handle_batch(done)  # delivered twice: the second changes nothing
    assert all(key_of(m).endswith("|task") for m in done)
    drain(engine, dispatcher)
    record = store.get_execution(arn)
    assert record is not None and record.output == [10, 20, 30]
    assert [e.type for e in store.history(arn)].count("TaskSucceeded") == 3


def test_first_task_calls_of_executions_started_together_go_out_together(store: Store) -> None:
    dispatcher = QueueDispatcher()
    engine = Engine(store, dispatcher)
    definition = json.dumps(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "noop", "End": True}}}
    )
    arns = [start(engine, definition, n) for n in range(3)]
    first_steps = [dispatcher.batches.popleft()[0] for _ in arns]
    engine.handle_batch(first_steps)  # as the API's gathered first steps arrive
    assert dispatcher.gathered == [3]
    assert [c.execution for c in dispatcher.calls] == arns
