"""GetExecutionHistory against what AWS recorded, event by event (conformance level 3).

Every pure JSONPath `history` case of ../shared/conformance is created and started through
boto3 on a running `stepline server` (embedded, and on Redis with worker processes); its
GetExecutionHistory (all pages) is masked as the recordings were (JSON-object strings
parsed, the case's regex normalizers applied, timestamps dropped) and each event compared
with AWS's: type, id, previousEventId and every member of its details. `<...>`
placeholders, the case's normalizer replacements and ARNs (the recordings' are
placeholders) match anything.

A case we do not match yet stays listed in KNOWN_HISTORY_DIFFERENCES with its reason
(strict xfail: fixing the engine makes the test fail until the entry goes).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.cases import (
    ACCOUNT,
    Case,
    load_cases,
    mask,
    masked_values,
    matches,
)
from tests.e2e.conftest import Server, clean_env, client, start_server, unique, wait_ready
from workers.local_cluster import RedisServer

ROLE = f"arn:aws:iam::{ACCOUNT}:role/stepline-conformance"
#: What the recordings put in place of any timestamp-looking value.
_RECORDED_TIMESTAMP = "timestamp"

#: Cases whose history does not match AWS's yet, with the reason (none today).
KNOWN_HISTORY_DIFFERENCES: dict[str, str] = {}


def history_cases() -> list[Case]:
    """The pure JSONPath cases whose whole history AWS recorded."""
    return [
        case
        for case in load_cases()
        if case.raw.get("kind") == "history"
        and case.raw.get("pure")
        and not case.needs & {"jsonata", "variables"}
        and case.expected.get("history")
    ]


CASES = history_cases()


def _params() -> list[Any]:
    params = [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(reason=KNOWN_HISTORY_DIFFERENCES[case.id], strict=True)]
            if case.id in KNOWN_HISTORY_DIFFERENCES
            else [],
        )
        for case in CASES
    ]
    return params or [pytest.param(None, marks=pytest.mark.skip(reason="no conformance folder"))]


@pytest.fixture(scope="module", params=["embedded", "server-redis"])
def conformance_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`stepline server` with the recordings' account and waits 100x faster: embedded,
    then on a private Redis with two worker processes."""
    folder = tmp_path_factory.mktemp("history")
    env = clean_env(STEPLINE_ACCOUNT=ACCOUNT, STEPLINE_TIME_SCALE="0.01")
    if request.param == "embedded":
        running = start_server(folder, env=env, handlers=False)
        yield running
        running.stop()
        return
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = RedisServer(folder / "redis")
    redis.start()
    try:
        running = start_server(folder, "--workers", "2", env={**env, "REDIS_URL": redis.url},
                               handlers=False, mode="server-redis")
        wait_ready(running.url)
        yield running
        running.stop()
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def history_sfn(conformance_server: Server) -> Any:
    return client(conformance_server.url)


def run_case(sfn: Any, case: Case) -> list[dict[str, Any]]:
    """Create and run the case's machine through the API; its whole history."""
    machine = sfn.create_state_machine(
        name=unique("history"), definition=case.definition, roleArn=ROLE,
        type="EXPRESS" if case.express else "STANDARD",
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(case.input))[
        "executionArn"]
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end in 30 s"
        time.sleep(0.01)
    events: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **token)
        events += page["events"]
        if "nextToken" not in page:
            return events
        token = {"nextToken": page["nextToken"]}


def as_recorded(case: Case, event: dict[str, Any]) -> Any:
    """One of our events masked as the recordings were."""
    value = {k: v for k, v in event.items() if k != "timestamp"}
    value = _replace_strings(value, lambda s: s.replace(ROLE, case.role_arn))
    for normalizer in case.raw.get("normalizers", []):
        if normalizer.get("kind") == "regex":
            pattern = normalizer["pattern"]
            if normalizer.get("literal"):
                pattern = re.escape(pattern)
            compiled, replacement = re.compile(pattern), str(normalizer["replacement"])
            value = _replace_strings(value, lambda s, c=compiled, r=replacement: c.sub(r, s))
    return mask(value)


def _replace_strings(value: Any, change: Any) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: _replace_strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_strings(v, change) for v in value]
    return value


def _skipped(case: Case) -> list[list[str]]:
    """The case's skip_verify_paths as member paths (`$..events..a.b` -> [a, b])."""
    paths = []
    for path in case.raw.get("skip_verify_paths", []):
        tail = path.removeprefix("$..events..").removeprefix("$..")
        paths.append(tail.split("."))
    return paths


def _drop(value: Any, path: list[str]) -> Any:
    """`value` without the member `path` names, wherever it occurs."""
    if isinstance(value, list):
        return [_drop(v, path) for v in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, member in value.items():
        if key == path[0] and len(path) == 1:
            continue
        result[key] = _drop(member, path[1:] if key == path[0] else path)
    return result


def differences(case: Case, ours: list[dict[str, Any]]) -> list[str]:
    """How our history differs from the recording (empty when it matches)."""
    expected = [{k: v for k, v in e.items() if k != "timestamp"}
                for e in case.expected["history"]]
    actual = [as_recorded(case, event) for event in ours]
    for path in _skipped(case):
        expected, actual = _drop(expected, path), _drop(actual, path)
    wildcards = masked_values(case) | {_RECORDED_TIMESTAMP}
    if any(n.get("kind") == "parallel_sort" for n in case.raw.get("normalizers", [])):
        expected, actual = _sorted_branches(expected, actual)
    found = []
    if len(actual) != len(expected):
        found.append(f"{len(actual)} events, AWS recorded {len(expected)}")
    for index, (theirs, mine) in enumerate(zip(expected, actual, strict=False)):
        if not matches(theirs, mine, frozenset(), wildcards):
            found.append(f"event {index + 1}:\n  AWS:  {json.dumps(theirs)}\n"
                         f"  ours: {json.dumps(mine)}")
    return found


def _sorted_branches(
    expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `parallel_sort` masking: branch events (ids masked) sorted, compared without
    ids, and ParallelStateSucceeded dropped (the recording dropped it)."""
    actual = [e for e in actual if e["type"] != "ParallelStateSucceeded"]
    fixed = [i for i, e in enumerate(expected) if isinstance(e.get("id"), int)]
    loose = [i for i, e in enumerate(expected) if not isinstance(e.get("id"), int)]
    if len(actual) != len(expected) or not loose:
        return expected, actual

    def key(event: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in event.items() if k not in ("id", "previousEventId")},
                          sort_keys=True)

    mine_loose = sorted((actual[i] for i in loose), key=key)
    theirs_loose = sorted((expected[i] for i in loose), key=key)
    strip = ("id", "previousEventId")
    return (
        [expected[i] for i in fixed] + [{k: v for k, v in e.items() if k not in strip}
                                        for e in theirs_loose],
        [actual[i] for i in fixed] + [{k: v for k, v in e.items() if k not in strip}
                                      for e in mine_loose],
    )


@pytest.mark.parametrize("case", _params())
def test_history_matches_aws_event_by_event(history_sfn: Any, case: Case) -> None:
    found = differences(case, run_case(history_sfn, case))
    assert not found, "\n".join(found[:5])


def test_the_known_differences_name_existing_cases() -> None:
    ids = {case.id for case in CASES}
    if CASES:
        assert set(KNOWN_HISTORY_DIFFERENCES) <= ids


def test_the_comparison_catches_a_changed_event() -> None:
    case = next((c for c in CASES if c.id not in KNOWN_HISTORY_DIFFERENCES), None)
    if case is None:
        pytest.skip("no conformance folder")
    recorded = [dict(e) for e in case.expected["history"]]
    ours = [_as_served(e) for e in recorded]
    assert differences(case, ours) == []
    ours[-1] = {**ours[-1], "previousEventId": 99}
    assert differences(case, ours)
    assert differences(case, ours[:-1])


def _as_served(event: dict[str, Any]) -> dict[str, Any]:
    """A recorded event as the API serves it (objects as JSON strings)."""
    def unmask(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: json.dumps(v) if isinstance(v, dict) and k in ("input", "output")
                    else unmask(v) for k, v in value.items()}
        return value

    return {k: unmask(v) for k, v in event.items()}

