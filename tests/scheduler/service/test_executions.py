"""Executions through the service: starting rules, reading, paging, stopping, sync."""

from __future__ import annotations

import json

import pytest

from scheduler.engine.records import ExecutionStatus
from scheduler.engine.settings import EngineSettings
from scheduler.service import EmbeddedEngine, MemoryKV, StepFunctions, build_service
from scheduler.service.errors import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidArn,
    InvalidExecutionInput,
    InvalidName,
    InvalidToken,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
)
from tests.scheduler.service.conftest import PASS, WAIT, Clock, config, definition

BASE = "arn:aws:states:us-east-1:123456789012"
FAILS = definition(T={"Type": "Task", "Resource": "boom", "End": True})


def test_start_runs_the_current_definition(service: StepFunctions) -> None:
    machine, _ = service.create_state_machine("m", config())
    started = service.executions.start(machine.arn, "first", '{"n": 1}', "Root=1")
    assert started.created and started.record.arn == f"{BASE}:execution:m:first"
    final = service.engine.wait(started.record.arn, 5)
    assert final is not None and final.status == ExecutionStatus.SUCCEEDED
    assert final.output == {"n": 1}
    record, origin = service.executions.describe(started.record.arn)
    assert origin.trace_header == "Root=1" and origin.revision_id == machine.revision_id


def test_same_name_and_input_while_running_is_the_same_execution(
    service: StepFunctions,
) -> None:
    machine, _ = service.create_state_machine("m", config(WAIT))
    first = service.executions.start(machine.arn, "e", '{"a": 1, "b": 2}')
    again = service.executions.start(machine.arn, "e", '{"b": 2, "a": 1}')
    assert not again.created and again.record.arn == first.record.arn
    with pytest.raises(ExecutionAlreadyExists, match="Execution Already Exists"):
        service.executions.start(machine.arn, "e", '{"a": 2}')
    service.executions.stop(first.record.arn, None, None)
    with pytest.raises(ExecutionAlreadyExists):
        service.executions.start(machine.arn, "e", '{"a": 1, "b": 2}')


@pytest.mark.parametrize(
    ("input_text", "message"),
    [("{bad", "Invalid State Machine Execution Input"), ("NaN", "not a JSON value"),
     ('"' + "x" * (256 * 1024) + '"', "over the maximum of 262144 bytes")],
)
def test_bad_inputs_start_nothing(
    service: StepFunctions, input_text: str, message: str
) -> None:
    machine, _ = service.create_state_machine("m", config())
    with pytest.raises(InvalidExecutionInput, match=message):
        service.executions.start(machine.arn, "e", input_text)
    assert service.executions.list_executions(machine.arn)[0] == []


def test_start_refuses_bad_names_arns_and_missing_machines(service: StepFunctions) -> None:
    machine, _ = service.create_state_machine("m", config())
    with pytest.raises(InvalidName):
        service.executions.start(machine.arn, "has space")
    with pytest.raises(InvalidArn):
        service.executions.start(f"{BASE}:activity:m")
    with pytest.raises(StateMachineDoesNotExist):
        service.executions.start(f"{BASE}:stateMachine:nope")
    with pytest.raises(StateMachineDoesNotExist):
        service.executions.start(f"{machine.arn}:7")
    with pytest.raises(StateMachineDoesNotExist):
        service.executions.start(f"{machine.arn}:prod")


def test_executions_keep_their_revision_and_report_version_and_alias(
    service: StepFunctions,
) -> None:
    machine, v1 = service.create_state_machine("m", config(), publish=True)
    assert v1 is not None
    alias = service.versions.create_alias("live", None, [{"stateMachineVersionArn": v1.arn,
                                                          "weight": 100}])
    service.update_state_machine(machine.arn, {"definition": WAIT})
    by_alias = service.executions.start(alias.arn, "via-alias")
    by_version = service.executions.start(v1.arn, "via-version")
    latest = service.executions.start(machine.arn, "latest")
    assert by_alias.origin.alias_arn == alias.arn and by_alias.origin.version_arn == v1.arn
    assert by_version.origin.version_arn == v1.arn and by_version.origin.alias_arn is None
    assert service.engine.wait(by_version.record.arn, 5).status == "SUCCEEDED"  # type: ignore[union-attr]
    assert service.executions.machine_for(by_version.record.arn).config.definition == PASS
    assert service.executions.machine_for(latest.record.arn).config.definition == WAIT
    listed, _ = service.executions.list_executions(v1.arn)
    assert {r.name for r, _ in listed} == {"via-alias", "via-version"}
    listed, _ = service.executions.list_executions(alias.arn)
    assert [r.name for r, _ in listed] == ["via-alias"]


def test_list_filters_by_status_and_pages_newest_first(service: StepFunctions) -> None:
    machine, _ = service.create_state_machine("m", config(WAIT))
    arns = [service.executions.start(machine.arn, f"e{i}").record.arn for i in range(5)]
    service.executions.stop(arns[0], "Cancelled", "by test")
    seen, token = [], None
    while True:
        chunk, token = service.executions.list_executions(
            machine.arn, status="RUNNING", max_results=2, token=token
        )
        seen += [r.name for r, _ in chunk]
        if token is None:
            break
    assert seen == ["e4", "e3", "e2", "e1"]
    aborted, _ = service.executions.list_executions(machine.arn, status="ABORTED")
    assert [(r.name, r.error, r.cause) for r, _ in aborted] == [("e0", "Cancelled", "by test")]
    with pytest.raises(InvalidToken):
        service.executions.list_executions(machine.arn, token="garbage")


def test_history_pages_both_ways_and_can_leave_out_data(service: StepFunctions) -> None:
    machine, _ = service.create_state_machine("m", config(
        definition(A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass", "End": True})))
    arn = service.executions.start(machine.arn, "e", '{"secret": 1}').record.arn
    service.engine.wait(arn, 5)
    events, token = service.executions.history(arn, max_results=4)
    rest, end = service.executions.history(arn, max_results=4, token=token)
    assert end is None
    types = [e["type"] for e in events + rest]
    assert types == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                     "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    backwards, _ = service.executions.history(arn, reverse=True)
    assert [e["id"] for e in backwards] == [6, 5, 4, 3, 2, 1]
    bare, _ = service.executions.history(arn, include_data=False)
    assert "secret" not in json.dumps(bare)
    assert bare[0]["executionStartedEventDetails"]["roleArn"].startswith("arn:aws:iam::")
    with pytest.raises(ExecutionDoesNotExist):
        service.executions.history(f"{BASE}:execution:m:nope")


def test_stop_aborts_running_and_leaves_closed_alone(service: StepFunctions) -> None:
    machine, _ = service.create_state_machine("m", config(WAIT))
    arn = service.executions.start(machine.arn, "e").record.arn
    stopped = service.executions.stop(arn, "Err", "because")
    assert stopped.status == ExecutionStatus.ABORTED and stopped.stop_date is not None
    again = service.executions.stop(arn, None, None)
    assert again.stop_date == stopped.stop_date
    last = service.executions.history(arn)[0][-1]
    assert last["type"] == "ExecutionAborted"
    assert last["executionAbortedEventDetails"] == {"error": "Err", "cause": "because"}
    with pytest.raises(ExecutionDoesNotExist):
        service.executions.stop(f"{BASE}:execution:m:nope", None, None)


def test_sync_runs_express_to_the_end(service: StepFunctions) -> None:
    express, _ = service.create_state_machine("x", config(PASS, "EXPRESS"))
    record, _ = service.executions.start_sync(express.arn, "s", '{"k": "v"}')
    assert record.status == ExecutionStatus.SUCCEEDED and record.output == {"k": "v"}
    assert record.arn.startswith(f"{BASE}:express:x:s:")
    failing, _ = service.create_state_machine("f", config(FAILS, "EXPRESS"))
    record, _ = service.executions.start_sync(failing.arn)
    assert record.status == ExecutionStatus.FAILED and record.error == "ZeroDivisionError"
    standard, _ = service.create_state_machine("m", config())
    with pytest.raises(StateMachineTypeNotSupported):
        service.executions.start_sync(standard.arn)


def test_sync_past_its_time_limit_times_out(service: StepFunctions) -> None:
    slow, _ = service.create_state_machine("x", config(WAIT, "EXPRESS"))
    record, _ = service.executions.start_sync(slow.arn, timeout=0.2)
    assert record.status == ExecutionStatus.TIMED_OUT


def test_express_names_may_repeat(service: StepFunctions) -> None:
    express, _ = service.create_state_machine("x", config(WAIT, "EXPRESS"))
    first = service.executions.start(express.arn, "same")
    second = service.executions.start(express.arn, "same")
    assert first.record.arn != second.record.arn and second.created


def test_list_pages_stay_right_while_executions_start_and_end(service: StepFunctions) -> None:
    machine, _ = service.create_state_machine("m", config(WAIT))
    arns = [service.executions.start(machine.arn, f"e{i}").record.arn for i in range(250)]
    first, token = service.executions.list_executions(machine.arn, max_results=100)
    assert [r.name for r, _ in first][:2] == ["e249", "e248"] and token is not None
    for i in range(250, 253):  # newer executions come first; the next page is unmoved
        service.executions.start(machine.arn, f"e{i}")
    service.executions.stop(arns[149], None, None)
    second, token = service.executions.list_executions(machine.arn, max_results=100,
                                                       token=token)
    assert [r.name for r, _ in second] == [f"e{i}" for i in range(149, 49, -1)]
    third, token = service.executions.list_executions(machine.arn, max_results=100,
                                                      token=token)
    assert [r.name for r, _ in third] == [f"e{i}" for i in range(49, -1, -1)]
    assert token is None
    running, token = service.executions.list_executions(
        machine.arn, status="RUNNING", max_results=149)
    assert running[-1][0].name == "e103" and token is not None
    rest, _ = service.executions.list_executions(machine.arn, status="RUNNING", token=token)
    assert [r.name for r, _ in rest][:2] == ["e102", "e101"] and len(rest) == 100
    with pytest.raises(InvalidToken):
        service.executions.list_executions(machine.arn, token=token)


def test_a_forgotten_execution_leaves_nothing_in_the_service() -> None:
    """Past `keep_finished` the embedded engine forgets the oldest ended executions; the
    origin the service kept for each goes with it, and describing one is
    ExecutionDoesNotExist, as on AWS once its retention ran out."""
    engine = EmbeddedEngine(settings=EngineSettings(keep_finished=2))
    engine.start()
    try:
        kv = MemoryKV()
        service = build_service(engine, kv, clock=Clock())
        machine, _ = service.create_state_machine("m", config())
        arns = []
        for n in range(4):
            started = service.executions.start(machine.arn, f"e{n}", "{}")
            assert engine.wait(started.record.arn, 5) is not None
            arns.append(started.record.arn)
        kept = [arn for arn in arns if kv.get(f"exec/{arn}") is not None]
        assert kept == arns[2:]
        with pytest.raises(ExecutionDoesNotExist):
            service.executions.describe(arns[0])
        assert service.executions.describe(arns[3])[0].status == ExecutionStatus.SUCCEEDED
    finally:
        engine.close()
