"""`express_history`: Express executions kept (the default, to debug them) or answered as
AWS answers them (`STEPLINE_EXPRESS_HISTORY=false`), through boto3 on a running
`stepline server`, embedded and on Redis."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from botocore.exceptions import ClientError

from tests.e2e.conftest import (
    ROLE,
    Server,
    clean_env,
    client,
    definition,
    start_server,
    unique,
    wait_until,
)
from workers.local_cluster import RedisServer

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function"
DOUBLE = definition(D={"Type": "Task", "Resource": f"{LAMBDA}:double", "End": True})
PASS = definition(P={"Type": "Pass", "End": True})
NOT_HERE = "Invalid Arn: 'Resource type not valid in this context: express'"


def express(sfn: Any, text: str = DOUBLE) -> str:
    arn: str = sfn.create_state_machine(name=unique("x"), definition=text, roleArn=ROLE,
                                        type="EXPRESS")["stateMachineArn"]
    return arn


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_by_default_express_executions_are_kept(sfn: Any) -> None:
    machine = express(sfn)
    done = sfn.start_sync_execution(stateMachineArn=machine, input='{"n": 2}')
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"n": 4}
    described = sfn.describe_execution(executionArn=done["executionArn"])
    assert described["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=done["executionArn"])["events"]
    assert [events[0]["type"], events[-1]["type"]] == ["ExecutionStarted", "ExecutionSucceeded"]
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [e["executionArn"] for e in listed] == [done["executionArn"]]


@pytest.fixture(scope="module", params=["embedded", "server-redis"])
def forgetful(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[Any, redis.Redis | None]]:
    """A server with STEPLINE_EXPRESS_HISTORY=false, and its Redis client (if any)."""
    folder: Path = tmp_path_factory.mktemp("forgetful")
    redis_server = None
    env = clean_env(STEPLINE_EXPRESS_HISTORY="false")
    extra: tuple[str, ...] = ()
    if request.param == "server-redis":
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed")
        redis_server = RedisServer(folder / "redis")
        redis_server.start()
        env["REDIS_URL"] = redis_server.url
        extra = ("--workers", "1")
    server: Server = start_server(folder, *extra, env=env, mode=request.param)
    try:
        store = None
        if redis_server is not None:
            store = redis.Redis.from_url(redis_server.url, decode_responses=True)
        yield client(server.url), store
    finally:
        server.stop()
        if redis_server is not None:
            redis_server.stop()


def test_sync_results_come_back_and_nothing_else_is_kept(
    forgetful: tuple[Any, redis.Redis | None],
) -> None:
    sfn, store = forgetful
    machine = express(sfn)
    done = sfn.start_sync_execution(stateMachineArn=machine, input='{"n": 21}')
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"n": 42}
    arn = done["executionArn"]
    for call in (lambda: sfn.describe_execution(executionArn=arn),
                 lambda: sfn.get_execution_history(executionArn=arn),
                 lambda: sfn.stop_execution(executionArn=arn),
                 lambda: sfn.describe_state_machine_for_execution(executionArn=arn)):
        with pytest.raises(ClientError) as caught:
            call()
        assert error(caught) == ("InvalidArn", NOT_HERE)
    with pytest.raises(ClientError) as caught:
        sfn.list_executions(stateMachineArn=machine)
    assert error(caught) == ("StateMachineTypeNotSupported",
                             "This operation is not supported by this type of state machine")
    if store is not None:  # no history, no listing; the end only for a while
        keys = store.keys(f"*{arn}*")
        assert [k for k in keys if k.endswith(":events")] == []
        assert store.ttl(f"stepline:x:{arn}:exec") > 0
        assert store.zscore("stepline:executions", arn) is None


def test_failures_and_async_starts_are_answered_the_same(
    forgetful: tuple[Any, redis.Redis | None],
) -> None:
    sfn, store = forgetful
    failed = sfn.start_sync_execution(
        stateMachineArn=express(sfn, definition(F={"Type": "Fail", "Error": "Nope"})))
    assert (failed["status"], failed["error"]) == ("FAILED", "Nope")
    started = sfn.start_execution(stateMachineArn=express(sfn, PASS))
    with pytest.raises(ClientError) as caught:
        sfn.describe_execution(executionArn=started["executionArn"])
    assert error(caught) == ("InvalidArn", NOT_HERE)
    standard = sfn.create_state_machine(name=unique("s"), definition=DOUBLE,
                                        roleArn=ROLE)["stateMachineArn"]
    kept = sfn.start_execution(stateMachineArn=standard, input='{"n": 1}')["executionArn"]
    wait_until(lambda: sfn.describe_execution(executionArn=kept)["status"] == "SUCCEEDED")
    assert sfn.get_execution_history(executionArn=kept)["events"]
    if store is not None:
        assert store.zscore("stepline:executions", kept) is not None
