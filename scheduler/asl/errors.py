"""Errors: the project's one error root, the ASL runtime failure, and the predefined names.

`StatesError(name, cause)` is how every runtime failure travels through the interpreter
and the engine; Retry and Catch match on its `error`.
"""

from __future__ import annotations

from enum import StrEnum


class SteplineError(Exception):
    """Root of every error Stepline raises on purpose."""


class ErrorName(StrEnum):
    """The predefined error names of the Amazon States Language."""

    ALL = "States.ALL"
    TASK_FAILED = "States.TaskFailed"
    RUNTIME = "States.Runtime"
    TIMEOUT = "States.Timeout"
    HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
    DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
    INTRINSIC_FAILURE = "States.IntrinsicFailure"
    PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
    RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
    BRANCH_FAILED = "States.BranchFailed"
    NO_CHOICE_MATCHED = "States.NoChoiceMatched"
    EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
    PERMISSIONS = "States.Permissions"
    ITEM_READER_FAILED = "States.ItemReaderFailed"
    RESULT_WRITER_FAILED = "States.ResultWriterFailed"
    QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"


class StatesError(SteplineError):
    """A runtime failure of a state: an error name that Retry/Catch match, and a cause."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = str(error)
        self.cause = cause


class StateRuntimeError(StatesError):
    """`States.Runtime` raised while executing a state.

    AWS prefixes the cause with "An error occurred while executing the state 'X' (entered at
    the event id #N)."; the engine knows N, so it adds that prefix (see `runtime_cause`).
    """

    def __init__(self, cause: str, error: str = ErrorName.RUNTIME) -> None:
        super().__init__(error, cause)


class QueryEvaluationError(StateRuntimeError):
    """`States.QueryEvaluationError`: a JSONata expression failed, or returned what its field
    cannot take. `location` names the field (`Output/result`, `Items`, `Choices[0]/Condition`)
    for the `EvaluationFailed` history event; None when AWS records none.

    A subclass of StateRuntimeError so the engine prefixes the cause with the state's name
    and entered event, as AWS does.
    """

    def __init__(self, cause: str, location: str | None = None) -> None:
        super().__init__(cause, ErrorName.QUERY_EVALUATION_ERROR)
        self.location = location


def runtime_cause(state_name: str, entered_event_id: int, cause: str) -> str:
    """AWS's wording of a States.Runtime cause, naming the state and its entered event."""
    return (
        f"An error occurred while executing the state '{state_name}' "
        f"(entered at the event id #{entered_event_id}). {cause}"
    )
