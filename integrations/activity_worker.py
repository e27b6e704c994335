"""Write an activity worker in a few lines: poll, run a handler, answer, heartbeat.

    from integrations.activity_worker import run_activity_worker

    def approve(order):                      # the task's input, parsed JSON
        if order["total"] > 1000:
            raise OverBudget("needs a manager")  # -> SendTaskFailure(error="OverBudget")
        return {"approved": True}            # -> SendTaskSuccess(output=...)

    run_activity_worker(ACTIVITY_ARN, approve, endpoint_url="http://localhost:8083",
                        heartbeat_seconds=10)

The worker long-polls GetActivityTask (up to 60 seconds a poll, as on AWS), calls the
handler with the task's input, and sends its return value with SendTaskSuccess. An
exception becomes SendTaskFailure with `error` the exception's class name and `cause` its
message, as AWS's SDK examples do, so the state's Retry and Catch can name it. While the
handler runs, a thread sends SendTaskHeartbeat every `heartbeat_seconds`, so a long task
outlives the state's HeartbeatSeconds. It stops when `stop_event` is set: it finishes the
task in hand and does not poll again (a poll already waiting returns within 60 seconds).
Works against Stepline or AWS: any Step Functions client.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

Handler = Callable[[Any], Any]
log = logging.getLogger("stepline.activity_worker")

#: AWS's limits on SendTaskFailure's members.
MAX_ERROR = 256
MAX_CAUSE = 32768
#: Longer than GetActivityTask's 60-second long poll, as AWS advises.
READ_TIMEOUT = 70
RETRY_PAUSE = 1.0
"""Seconds to wait after a poll that failed (the server down, say) before polling again."""


def make_client(endpoint_url: str | None = None, region_name: str | None = None) -> Any:
    """A Step Functions client whose read timeout outlasts a long poll. Without AWS
    credentials in the environment it signs with placeholders, which Stepline accepts."""
    session = boto3.Session(region_name=region_name or os.environ.get("AWS_REGION", "us-east-1"))
    keys: dict[str, str] = {}
    if session.get_credentials() is None:
        keys = {"aws_access_key_id": "stepline", "aws_secret_access_key": "stepline"}
    config = Config(read_timeout=READ_TIMEOUT, retries={"max_attempts": 2},
                    inject_host_prefix=False)
    return session.client("stepfunctions", endpoint_url=endpoint_url, config=config, **keys)


def failure_of(exc: BaseException) -> tuple[str, str]:
    """SendTaskFailure's error and cause for an exception: class name and message."""
    return type(exc).__name__[:MAX_ERROR], str(exc)[:MAX_CAUSE]


class _Heartbeat:
    """Sends SendTaskHeartbeat every `seconds` until stopped (or the task is gone)."""

    def __init__(self, client: Any, token: str, seconds: float | None) -> None:
        self._client, self._token, self._seconds = client, token, seconds
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="activity-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        if self._seconds:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()

    def _beat(self) -> None:
        assert self._seconds is not None
        while not self._done.wait(self._seconds):
            try:
                self._client.send_task_heartbeat(taskToken=self._token)
            except ClientError as exc:  # TaskTimedOut / TaskDoesNotExist: nobody waits now
                log.warning("heartbeat refused, the task has ended: %s", exc)
                return
            except BotoCoreError as exc:
                log.warning("heartbeat failed, will try again: %s", exc)


def run_task(client: Any, task: dict[str, Any], handler: Handler, heartbeat: float | None) -> bool:
    """Run one task from GetActivityTask and answer it; True when it succeeded."""
    token = task["taskToken"]
    try:
        with _Heartbeat(client, token, heartbeat):
            output = json.dumps(handler(json.loads(task["input"])))
    except Exception as exc:  # noqa: BLE001 - every handler failure is the task's failure
        error, cause = failure_of(exc)
        log.info("task failed with %s: %s", error, cause)
        _answer(client.send_task_failure, taskToken=token, error=error, cause=cause)
        return False
    _answer(client.send_task_success, taskToken=token, output=output)
    return True


def _answer(send: Callable[..., Any], **members: str) -> None:
    try:
        send(**members)
    except ClientError as exc:  # the task timed out or was stopped meanwhile
        log.warning("the answer was refused, the task had already ended: %s", exc)


def run_activity_worker(
    activity_arn: str,
    handler: Handler,
    *,
    client: Any = None,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    worker_name: str | None = None,
    heartbeat_seconds: float | None = None,
    stop_event: threading.Event | None = None,
    max_tasks: int | None = None,
) -> int:
    """Poll `activity_arn` and run `handler` on each task until `stop_event` is set (or
    `max_tasks` tasks ran). Returns how many tasks it ran."""
    client = client or make_client(endpoint_url, region_name)
    stop = stop_event or threading.Event()
    name = worker_name or f"stepline-worker-{os.getpid()}"
    ran = 0
    while not stop.is_set() and (max_tasks is None or ran < max_tasks):
        try:  # a ClientError (ActivityDoesNotExist...) propagates: polling will not help
            task = client.get_activity_task(activityArn=activity_arn, workerName=name)
        except BotoCoreError as exc:
            log.warning("GetActivityTask failed, polling again: %s", exc)
            stop.wait(RETRY_PAUSE)
            continue
        if not task.get("taskToken"):
            continue  # the long poll ended with no task
        run_task(client, task, handler, heartbeat_seconds)
        ran += 1
    return ran
