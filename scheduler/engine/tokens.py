"""Task tokens: `$$.Task.Token` for `.waitForTaskToken` tasks and activities.

A token names the run and the step sequence number the task waits at, so SendTaskSuccess
and friends can find the task, and a token for a task that already ended (the run moved
on) is recognised as such. It is URL-safe text, opaque to clients as on AWS.
"""

from __future__ import annotations

import base64
import binascii
import json

from scheduler.asl.errors import SteplineError

CALLBACK_SUFFIX = ".waitForTaskToken"


class InvalidToken(SteplineError):
    """A task token that Stepline did not issue (AWS: InvalidToken)."""


class TaskDoesNotExist(SteplineError):
    """A token whose execution does not exist (AWS: TaskDoesNotExist)."""


class TaskTimedOut(TaskDoesNotExist):
    """A token whose task is closed: it ended, timed out, or its execution did (AWS:
    TaskTimedOut, "the task associated with the token has already been closed")."""


def make_token(execution_arn: str, run_id: str, seq: int) -> str:
    """The token of the task that run `run_id` waits on at step `seq`."""
    raw = json.dumps([execution_arn, run_id, seq], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_token(token: str) -> tuple[str, str, int]:
    """(execution ARN, run id, seq) of a token. Raises InvalidToken."""
    if not isinstance(token, str) or not 1 <= len(token) <= 2048:
        raise InvalidToken("Invalid token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        arn, run_id, seq = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidToken("Invalid token") from None
    if not (isinstance(arn, str) and isinstance(run_id, str) and isinstance(seq, int)):
        raise InvalidToken("Invalid token")
    return arn, run_id, seq


def is_callback(resource: str) -> bool:
    """Whether a Task waits for a token (`...waitForTaskToken`)."""
    return resource.endswith(CALLBACK_SUFFIX)


def base_resource(resource: str) -> str:
    """The integration a callback Task calls: its Resource without the suffix."""
    return resource[: -len(CALLBACK_SUFFIX)] if is_callback(resource) else resource
