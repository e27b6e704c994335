"""The Redis engine behind the service: starts, reads, waits and end notifications over a
private redis-server (no worker runs here: executions stay RUNNING until stopped)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scheduler.config import Settings
from scheduler.engine.records import ExecutionRecord, ExecutionStatus, StateMachineType
from scheduler.service import build_service
from scheduler.service.engine_redis import RedisEngine
from tests.scheduler.service.conftest import WAIT, config

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:m"


@pytest.fixture
def make_engine(
    redis_server: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., RedisEngine]]:
    """Engines on database 3 of the session's redis-server, under a prefix of their own."""
    monkeypatch.setenv("STEPLINE_PREFIX", f"test-{uuid.uuid4()}:")
    url = redis_server.url.rsplit("/", 1)[0] + "/3"
    made: list[RedisEngine] = []

    def make(start: bool = True, redis_url: str = url) -> RedisEngine:
        engine = RedisEngine.from_settings(Settings(redis_url=redis_url))
        if start:
            engine.start()
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


def start(engine: RedisEngine, name: str) -> ExecutionRecord:
    record = engine.start_execution(
        arn=f"arn:aws:states:us-east-1:123456789012:execution:m:{name}", name=name,
        state_machine_arn=MACHINE, definition=WAIT, input_value={"n": 1}, role_arn="",
        type_=StateMachineType.STANDARD,
    )
    assert record is not None
    return record


def test_start_read_stop_and_wait(make_engine: Callable[..., RedisEngine]) -> None:
    engine = make_engine()
    ended: list[ExecutionRecord] = []
    engine.subscribe(ended.append)
    record = start(engine, "a")
    assert status(engine.get_execution(record.arn)) == ExecutionStatus.RUNNING
    assert status(engine.wait(record.arn, 0.05)) == ExecutionStatus.RUNNING
    waited: list[ExecutionRecord | None] = []
    waiter = threading.Thread(target=lambda: waited.append(engine.wait(record.arn, 10)))
    waiter.start()
    stopped = engine.stop_execution(record.arn, "Stop", "by test")
    waiter.join(10)
    assert stopped is not None and stopped.status == ExecutionStatus.ABORTED
    assert waited[0] is not None and waited[0].status == ExecutionStatus.ABORTED
    assert status(engine.wait(record.arn, 1)) == ExecutionStatus.ABORTED
    assert [e.type for e in engine.history(record.arn)] == [
        "ExecutionStarted", "ExecutionAborted"]  # no worker entered its first state
    assert [r.name for r in engine.list_executions(MACHINE)] == ["a"]
    assert start_again_is_none(engine, record)
    threading.Event().wait(0.2)
    assert [(r.arn, r.error) for r in ended] == [(record.arn, "Stop")]


def status(record: ExecutionRecord | None) -> ExecutionStatus:
    assert record is not None
    return record.status


def start_again_is_none(engine: RedisEngine, record: ExecutionRecord) -> bool:
    again = engine.start_execution(
        arn=record.arn, name=record.name, state_machine_arn=MACHINE, definition=WAIT,
        input_value={}, role_arn="", type_=StateMachineType.STANDARD,
    )
    return again is None


def test_ends_anywhere_reach_waiters_and_ends_of_ours_reach_subscribers(
    make_engine: Callable[..., RedisEngine],
) -> None:
    here, there = make_engine(), make_engine()
    heard_here: list[str] = []
    heard_there: list[str] = []
    here.subscribe(lambda r: heard_here.append(r.name))
    there.subscribe(lambda r: heard_there.append(r.name))
    record = start(here, "b")
    waited: list[ExecutionRecord | None] = []
    waiter = threading.Thread(target=lambda: waited.append(there.wait(record.arn, 10)))
    waiter.start()
    threading.Event().wait(0.1)
    there.stop_execution(record.arn, None, None)
    waiter.join(10)
    assert waited[0] is not None and waited[0].status == ExecutionStatus.ABORTED
    threading.Event().wait(0.2)
    assert heard_here == ["b"] and heard_there == []


def test_a_missed_end_message_is_made_up_for(make_engine: Callable[..., RedisEngine]) -> None:
    engine = make_engine(start=False)  # not listening: the end message is missed
    heard: list[str] = []
    engine.subscribe(lambda r: heard.append(r.name))
    record = start(engine, "c")
    engine.stop_execution(record.arn, None, None)
    assert heard == []
    engine._recheck(everything=True)  # what a reconnection does
    assert heard == ["c"]


def test_readiness(make_engine: Callable[..., RedisEngine], redis_server: Any) -> None:
    assert not make_engine(start=False).ready()
    engine = make_engine()
    assert engine.ready()
    engine.close()
    assert not engine.ready()
    dead = make_engine(redis_url="redis://127.0.0.1:1/0")
    assert not dead.ready()


def test_the_service_on_redis(make_engine: Callable[..., RedisEngine]) -> None:
    engine = make_engine()
    service = build_service(engine, engine.registry_kv())
    machine, _ = service.create_state_machine("m", config(WAIT))
    assert service.registry.get(machine.arn).name == "m"
    started = [service.executions.start(machine.arn, f"e{i}") for i in range(3)]
    page, token = service.executions.list_executions(machine.arn, max_results=2)
    assert [r.name for r, _ in page] == ["e2", "e1"] and token is not None
    page, token = service.executions.list_executions(machine.arn, max_results=2, token=token)
    assert [r.name for r, _ in page] == ["e0"] and token is None
    record, origin = service.executions.describe(started[0].record.arn)
    assert origin.revision_id == machine.revision_id
    keys = engine.store.client.keys(engine.store.prefix + "registry:*")
    assert sorted(keys) == [engine.store.prefix + f"registry:{kind}"
                            for kind in ("exec", "rev", "sm")]
