"""Step Functions calling Step Functions, on Stepline's own service.

- `arn:aws:states:::states:startExecution`: start an execution of another state machine
  (its ARN, or a version or alias ARN); the result is StartExecution's response. With
  `.sync` / `.sync:2` the Task waits for the child to end (scheduler/engine/nested.py);
  with `.waitForTaskToken` the child gets the token in its input and the Task waits for
  SendTaskSuccess/Failure.
- `arn:aws:states:::aws-sdk:sfn:ACTION`: any Step Functions API action, served by this
  Stepline (through botocore, so parameters, results and errors are exactly the aws-sdk
  integration's) unless an endpoint is configured for the service: then boto3 calls it.

Both need the service (`register_nested`), which `stepline server` and the workers wire;
without it (`stepline run`) a nested execution fails the Task with States.TaskFailed.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from integrations.patterns import unsupported_pattern
from scheduler.asl.errors import ErrorName, StatesError
from scheduler.engine.messages import TaskRequest
from scheduler.engine.nested import START_EXECUTION, start_response, waits_for_child
from scheduler.engine.tokens import make_token

if TYPE_CHECKING:
    from integrations.invoke import Invoker
    from scheduler.service import StepFunctions

STATES = "arn:aws:states:::states:"
AWS_SDK_SFN = "arn:aws:states:::aws-sdk:sfn:"
_ACTIONS = ("startExecution", "startExecution.sync", "startExecution.sync:2")
#: Environment variables that point boto3's Step Functions client somewhere.
_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL")

ServiceSource = Callable[[], "StepFunctions"]


def no_service(
    resource: str, payload: Any, timeout_seconds: float | None, request: TaskRequest | None
) -> Any:
    """`states:*` where no Step Functions service runs (`stepline run`): a clear failure."""
    raise StatesError(
        ErrorName.TASK_FAILED,
        f"'{resource}' starts another state machine's execution, which needs the Step "
        "Functions service: run this state machine on `stepline server` (or `stepline api`)",
    )


class NestedExecutions:
    """`states:startExecution[.sync|.sync:2]` over the service."""

    def __init__(self, service: ServiceSource) -> None:
        self.service = service

    def __call__(
        self,
        resource: str,
        payload: Any,
        timeout_seconds: float | None,
        request: TaskRequest | None,
    ) -> Any:
        action = resource[len(STATES) :]
        if action not in _ACTIONS:
            if action.partition(".")[0] == "startExecution":
                raise unsupported_pattern(resource, "." + action.partition(".")[2])
            raise StatesError(
                ErrorName.RUNTIME,
                f"'{resource}': the states integration has no action '{action}' "
                f"(it has {START_EXECUTION})",
            )
        machine_arn, name, input_text = _parameters(resource, payload)
        parent = None
        if waits_for_child(resource) and request is not None:
            parent = make_token(request.execution, request.run, request.seq)
        from scheduler.service.errors import ServiceError  # late: the service imports us

        try:
            started = self.service().executions.start(
                machine_arn, name, input_text, parent_token=parent
            )
        except ServiceError as exc:
            raise service_failure(exc.code.value, exc.message) from None
        return start_response(started.record)


def _parameters(resource: str, payload: Any) -> tuple[str, str | None, str]:
    """StateMachineArn, Name and the input as JSON text (an object is serialised, as AWS
    does; no Input, or null, is `{}`)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("StateMachineArn"), str):
        raise StatesError(
            ErrorName.RUNTIME,
            f"'{resource}': the field 'StateMachineArn' is required and must be a string",
        )
    name = payload.get("Name")
    if name is not None and not isinstance(name, str):
        raise StatesError(ErrorName.RUNTIME, f"'{resource}': the field 'Name' must be a string")
    value = payload.get("Input")
    if value is None:
        text = "{}"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return payload["StateMachineArn"], name, text


def service_failure(code: str, message: str) -> StatesError:
    """A refused StartExecution as the Task's error, named as AWS names it
    (`StepFunctions.StateMachineDoesNotExistException`)."""
    exception = code if code.endswith("Exception") else code + "Exception"
    return StatesError(
        f"StepFunctions.{exception}",
        f"{message} (Service: AWSStepFunctions; Status Code: 400; Error Code: {code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)",
    )


def endpoint_configured(invoker: Invoker) -> bool:
    """Whether `aws-sdk:sfn` has an endpoint of its own (settings or environment)."""
    if any(os.environ.get(name) for name in _ENDPOINT_VARIABLES):
        return True
    return invoker.builtins.settings().endpoint_for("stepfunctions") is not None


def register_nested(invoker: Invoker, service: ServiceSource) -> None:
    """Route `states:*` and (when no endpoint is configured for it) `aws-sdk:sfn:*` to
    the Step Functions service `service()` gives."""
    from integrations.sfn_local import LocalSfn  # late: boto3 only where this is wired

    invoker.add_with_caller(STATES, NestedExecutions(service))
    local = LocalSfn(service, invoker.account.region)

    def sfn(resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        if endpoint_configured(invoker):
            return invoker.builtins.aws_sdk(resource, payload, timeout_seconds)
        return local(resource, payload, timeout_seconds)

    invoker.add(AWS_SDK_SFN, sfn)
