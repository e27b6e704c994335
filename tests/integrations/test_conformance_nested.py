"""Conformance: the recorded AWS executions that start other executions (`nested_sfn`:
`states:startExecution[.sync|.sync:2]`, `aws-sdk:sfn:startExecution`), run through the
Step Functions service on both engine configurations.

Each case's child state machines (`resources`) are created through the service, the
parent is created and started the same way, and its status and output (or error and
cause) are compared with what AWS recorded after the case's own masking (level 1), its
history's event types (level 2), and every event of it, masked as the recordings were
(level 3). `embedded`: the embedded engine with the service
wired to its invoker, as `stepline server` does. `cluster`: Redis + two Celery worker
processes + the scheduler process (tests/conftest.py), where the workers' own service
starts the children. A case we cannot match stays in KNOWN_DIFFERENCES with its reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from integrations.states import register_nested
from scheduler.arns import Account
from scheduler.engine.engine import EngineSettings
from scheduler.engine.history import to_aws_event
from scheduler.engine.records import ExecutionRecord, ExecutionStatus
from scheduler.service import EmbeddedEngine, MachineConfig, StepFunctions, build_service
from scheduler.service.engine_redis import RedisEngine
from tests.cluster import ClusterRuntime
from tests.conformance.cases import (
    ACCOUNT,
    REGION,
    Case,
    handlers_module,
    load_cases,
    regex_normalized,
    registry_for,
    replace_uids,
    resource_name,
    result_matches,
)
from tests.e2e.test_history_conformance import differences

ROLE = f"arn:aws:iam::{ACCOUNT}:role/stepline-conformance"
KNOWN_DIFFERENCES: dict[str, str] = {}
CASES = [(n, case) for n, case in enumerate(load_cases()) if "nested_sfn" in case.needs]
_HANDLERS: list[Any] = []
#: (configuration, case id) -> what running the case gave: each case runs once per
#: configuration (its children's names are fixed, and the cluster's Redis is shared).
_RESULTS: dict[tuple[str, str], tuple[ExecutionRecord, list[dict[str, Any]], Stand]] = {}


def _params() -> list[Any]:
    params = []
    for number, case in CASES:
        reason = KNOWN_DIFFERENCES.get(case.id)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(number, case, id=case.id, marks=marks))
    return params or [pytest.param(0, None, marks=pytest.mark.skip(reason="no conformance folder"))]


class Stand:
    """A case's state machines on a service, and the tokens their ARNs replace."""

    def __init__(self, service: StepFunctions, number: int) -> None:
        self.service = service
        self.number = number
        self.tokens: dict[str, str] = {}

    def text(self, value: str) -> str:
        text = replace_uids(value, self.number)
        for token, replacement in self.tokens.items():
            text = text.replace(token, replacement)
        return text

    def create(self, case: Case) -> str:
        """Create the case's resources, then its own machine; the latter's ARN."""
        for resource in case.raw.get("resources", []):
            name = resource_name(resource, self.number)
            index = resource["index"]
            if resource["type"] == "lambda":
                arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            else:
                arn = self._machine(name, resource["definition"], resource.get("sm_type"))
            self.tokens.update({f"__CF_RES_{index}_ARN__": arn, f"__CF_RES_{index}_NAME__": name})
        kind = case.raw.get("state_machine_type")
        return self._machine(f"c{self.number}parent", case.raw["definition"], kind)

    def _machine(self, name: str, definition: dict[str, Any], kind: str | None) -> str:
        config = MachineConfig(self.text(json.dumps(definition)), ROLE, kind or "STANDARD")
        machine, _ = self.service.create_state_machine(name, config)
        return machine.arn

    def run(self, case: Case, wait: Callable[[str], ExecutionRecord]) -> ExecutionRecord:
        machine_arn = self.create(case)
        started = self.service.executions.start(
            machine_arn, None, self.text(case.raw.get("input") or "{}")
        )
        return wait(started.record.arn)


Runner = Callable[[Case, int], tuple[ExecutionRecord, list[dict[str, Any]], Stand]]


def _run_embedded(case: Case, number: int) -> tuple[ExecutionRecord, list[Any], Stand]:
    if not _HANDLERS:
        _HANDLERS.append(handlers_module())
    engine = EmbeddedEngine(
        registry_for(case, _HANDLERS[0]),
        settings=EngineSettings(account=ACCOUNT, time_scale=0.01),
    )
    engine.start()
    try:
        service = build_service(engine, account=Account(REGION, ACCOUNT))
        register_nested(engine.invoker, lambda: service)
        stand = Stand(service, number)

        def wait(arn: str) -> ExecutionRecord:
            record = engine.wait(arn, 30)
            assert record is not None
            return record

        record = stand.run(case, wait)
        return record, [to_aws_event(e) for e in engine.history(record.arn)], stand
    finally:
        engine.close()


@pytest.fixture(params=["embedded", "cluster"])
def run_case(request: pytest.FixtureRequest) -> Iterator[Runner]:
    """Runs a case on one engine configuration (once); returns (record, history, stand)."""
    configuration: str = request.param

    def once(run: Runner) -> Runner:
        def cached(case: Case, number: int) -> tuple[ExecutionRecord, list[Any], Stand]:
            key = (configuration, case.id)
            if key not in _RESULTS:
                _RESULTS[key] = run(case, number)
            return _RESULTS[key]

        return cached

    if configuration == "embedded":
        yield once(_run_embedded)
        return
    runtime: ClusterRuntime = request.getfixturevalue("cluster_runtime")
    engine = RedisEngine(runtime.runtime, track_ends=False)
    service = build_service(engine, engine.registry_kv(), account=runtime.account)

    def wait(arn: str) -> ExecutionRecord:
        deadline = time.monotonic() + 30
        while True:
            record = runtime.store.get_execution(arn)
            assert record is not None
            if record.status != ExecutionStatus.RUNNING or time.monotonic() > deadline:
                return record
            time.sleep(0.01)

    def run(case: Case, number: int) -> tuple[ExecutionRecord, list[Any], Stand]:
        stand = Stand(service, number)
        record = stand.run(case, wait)
        return record, runtime.history(record), stand

    yield once(run)
    engine.close()


@pytest.mark.parametrize(("number", "case"), _params())
def test_result_matches_aws(number: int, case: Case, run_case: Runner) -> None:
    record, history, stand = run_case(case, number)
    output = regex_normalized(case, stand.number, record.output, stand.tokens)
    cause = regex_normalized(case, stand.number, record.cause, stand.tokens)
    difference = result_matches(case, record.status.value, output, record.error, cause)
    assert difference is None, difference


@pytest.mark.parametrize(("number", "case"), _params())
def test_history_matches_aws(number: int, case: Case, run_case: Runner) -> None:
    _, history, _ = run_case(case, number)
    assert [event["type"] for event in history] == list(case.expected["events"])
    # the recordings show the role as a placeholder
    served = json.loads(json.dumps(history).replace(ROLE, "__CF_ROLE_ARN__"))
    found = differences(case, served)
    assert not found, "\n".join(found[:5])
