"""`express_history` off: the service answers Express ARNs as AWS does, and the embedded
store keeps nothing of an Express execution but its end, for EXPRESS_RESULT_SECONDS.
(The Redis store's side is tested through boto3 in tests/e2e/test_boto3_express_history.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scheduler.engine.clock import SkippingClock
from scheduler.engine.records import ExecutionStatus
from scheduler.engine.settings import EXPRESS_RESULT_SECONDS, EngineSettings
from scheduler.service import EmbeddedEngine, MemoryKV, StepFunctions, build_service
from scheduler.service.errors import InvalidArn, StateMachineTypeNotSupported
from tests.scheduler.service.conftest import PASS, config


@pytest.fixture
def clock() -> SkippingClock:
    return SkippingClock(start=1_700_000_000.0)


@pytest.fixture
def engine(clock: SkippingClock) -> Iterator[EmbeddedEngine]:
    running = EmbeddedEngine(settings=EngineSettings(express_history=False), clock=clock)
    running.start()
    yield running
    running.close()


@pytest.fixture
def kv() -> MemoryKV:
    return MemoryKV()


@pytest.fixture
def forgetful(engine: EmbeddedEngine, kv: MemoryKV) -> StepFunctions:
    return build_service(engine, kv, express_history=False)


def test_express_executions_are_answered_as_aws_does(forgetful: StepFunctions) -> None:
    machine, _ = forgetful.registry.create("x", config(PASS, "EXPRESS"))
    record, _ = forgetful.executions.start_sync(machine.arn, input_text='{"a": 1}')
    assert record.status == ExecutionStatus.SUCCEEDED and record.output == {"a": 1}
    message = "Invalid Arn: 'Resource type not valid in this context: express'"
    with pytest.raises(InvalidArn, match=message):
        forgetful.executions.describe(record.arn)
    with pytest.raises(InvalidArn, match=message):
        forgetful.executions.history(record.arn)
    with pytest.raises(InvalidArn, match=message):
        forgetful.executions.stop(record.arn, None, None)
    with pytest.raises(StateMachineTypeNotSupported):
        forgetful.executions.list_executions(machine.arn)
    standard, _ = forgetful.registry.create("s", config(PASS))
    kept = forgetful.executions.start(standard.arn).record
    assert forgetful.engine.wait(kept.arn, 5) is not None
    assert forgetful.executions.history(kept.arn)[0]


def test_the_store_keeps_only_the_end_and_only_for_a_while(
    forgetful: StepFunctions, engine: EmbeddedEngine, clock: SkippingClock
) -> None:
    machine, _ = forgetful.registry.create("x", config(PASS, "EXPRESS"))
    record, _ = forgetful.executions.start_sync(machine.arn)
    store = engine.store
    assert engine.call(lambda: store.history(record.arn)) == []
    assert engine.call(lambda: store.list_executions(machine.arn)) == []
    kept = engine.get_execution(record.arn)
    assert kept is not None and kept.status == ExecutionStatus.SUCCEEDED
    clock.advance_to(clock.now() + EXPRESS_RESULT_SECONDS + 1)
    forgetful.executions.start_sync(machine.arn)  # any later step forgets what is due
    assert engine.get_execution(record.arn) is None


def test_the_service_keeps_nothing_beside_an_express_execution(
    forgetful: StepFunctions, kv: MemoryKV
) -> None:
    express, _ = forgetful.registry.create("x", config(PASS, "EXPRESS"))
    record, _ = forgetful.executions.start_sync(express.arn)
    assert kv.get(f"exec/{record.arn}") is None
    standard, _ = forgetful.registry.create("s", config(PASS))
    kept = forgetful.executions.start(standard.arn).record
    assert kv.get(f"exec/{kept.arn}") is not None
