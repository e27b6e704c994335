"""The service's errors, one class per AWS Step Functions error code.

Each carries the code AWS puts in `__type` and a message worded as AWS words it
(`State Machine Does Not Exist: 'arn:...'`); the API layer turns them into responses.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from scheduler.asl.errors import SteplineError


class ErrorCode(StrEnum):
    """AWS Step Functions error codes (`__type`) the service raises."""

    ACTIVITY_ALREADY_EXISTS = "ActivityAlreadyExists"
    ACTIVITY_DOES_NOT_EXIST = "ActivityDoesNotExist"
    CONFLICT = "ConflictException"
    EXECUTION_ALREADY_EXISTS = "ExecutionAlreadyExists"
    EXECUTION_DOES_NOT_EXIST = "ExecutionDoesNotExist"
    EXECUTION_NOT_REDRIVABLE = "ExecutionNotRedrivable"
    TASK_DOES_NOT_EXIST = "TaskDoesNotExist"
    TASK_TIMED_OUT = "TaskTimedOut"
    INVALID_OUTPUT = "InvalidOutput"
    INVALID_ARN = "InvalidArn"
    INVALID_DEFINITION = "InvalidDefinition"
    INVALID_EXECUTION_INPUT = "InvalidExecutionInput"
    INVALID_NAME = "InvalidName"
    INVALID_TOKEN = "InvalidToken"
    MISSING_REQUIRED_PARAMETER = "MissingRequiredParameter"
    RESOURCE_NOT_FOUND = "ResourceNotFound"
    SERVICE_QUOTA_EXCEEDED = "ServiceQuotaExceededException"
    STATE_MACHINE_ALREADY_EXISTS = "StateMachineAlreadyExists"
    STATE_MACHINE_DOES_NOT_EXIST = "StateMachineDoesNotExist"
    STATE_MACHINE_TYPE_NOT_SUPPORTED = "StateMachineTypeNotSupported"
    TOO_MANY_TAGS = "TooManyTags"
    VALIDATION = "ValidationException"


class ServiceError(SteplineError):
    """A request the service refuses; `code` is AWS's error code for it."""

    code: ErrorCode = ErrorCode.VALIDATION

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        """More members of the error shape (TooManyTags has `resourceName`)."""


class ActivityAlreadyExists(ServiceError):
    """An activity of that name exists with a different configuration."""

    code = ErrorCode.ACTIVITY_ALREADY_EXISTS


class ActivityDoesNotExist(ServiceError):
    """No activity has that ARN."""

    code = ErrorCode.ACTIVITY_DOES_NOT_EXIST


class ConflictException(ServiceError):
    """The request conflicts with the resource's current state."""

    code = ErrorCode.CONFLICT


class ExecutionAlreadyExists(ServiceError):
    """An execution of that name exists (closed, or running with another input)."""

    code = ErrorCode.EXECUTION_ALREADY_EXISTS


class ExecutionDoesNotExist(ServiceError):
    """No execution has that ARN."""

    code = ErrorCode.EXECUTION_DOES_NOT_EXIST


class InvalidArn(ServiceError):
    """An ARN that is malformed or names the wrong kind of resource."""

    code = ErrorCode.INVALID_ARN


class InvalidDefinition(ServiceError):
    """A state machine definition that does not validate."""

    code = ErrorCode.INVALID_DEFINITION


class InvalidExecutionInput(ServiceError):
    """An execution input that is not JSON or is over the payload limit."""

    code = ErrorCode.INVALID_EXECUTION_INPUT


class InvalidName(ServiceError):
    """A name with characters AWS does not allow."""

    code = ErrorCode.INVALID_NAME


class InvalidToken(ServiceError):
    """A pagination token this service did not hand out."""

    code = ErrorCode.INVALID_TOKEN


class MissingRequiredParameter(ServiceError):
    """UpdateStateMachine with nothing to update."""

    code = ErrorCode.MISSING_REQUIRED_PARAMETER


class ResourceNotFound(ServiceError):
    """No resource (alias, version, tagged resource) has that ARN."""

    code = ErrorCode.RESOURCE_NOT_FOUND


class ServiceQuotaExceeded(ServiceError):
    """Over a per-resource quota (versions per machine, aliases per machine)."""

    code = ErrorCode.SERVICE_QUOTA_EXCEEDED


class StateMachineAlreadyExists(ServiceError):
    """A state machine of that name exists with a different configuration."""

    code = ErrorCode.STATE_MACHINE_ALREADY_EXISTS


class StateMachineDoesNotExist(ServiceError):
    """No state machine (or version, or alias) has that ARN."""

    code = ErrorCode.STATE_MACHINE_DOES_NOT_EXIST


class StateMachineTypeNotSupported(ServiceError):
    """The action does not apply to this type of state machine (STANDARD/EXPRESS)."""

    code = ErrorCode.STATE_MACHINE_TYPE_NOT_SUPPORTED


class TooManyTags(ServiceError):
    """More than 50 tags on one resource."""

    code = ErrorCode.TOO_MANY_TAGS


class ValidationException(ServiceError):
    """A request that breaks one of the API's constraints."""

    code = ErrorCode.VALIDATION


class ExecutionNotRedrivable(ServiceError):
    """RedriveExecution on an execution that cannot be redriven."""

    code = ErrorCode.EXECUTION_NOT_REDRIVABLE


class TaskDoesNotExist(ServiceError):
    """A task token of an execution that does not exist."""

    code = ErrorCode.TASK_DOES_NOT_EXIST


class TaskTimedOut(ServiceError):
    """A task token whose task is closed (ended, timed out, or its execution did)."""

    code = ErrorCode.TASK_TIMED_OUT


class InvalidOutput(ServiceError):
    """SendTaskSuccess with an output that is not JSON."""

    code = ErrorCode.INVALID_OUTPUT


class InvalidTaskToken(ServiceError):
    """A task token Stepline did not issue (AWS's code: InvalidToken)."""

    code = ErrorCode.INVALID_TOKEN
