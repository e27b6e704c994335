"""A TestState request, read and checked: every member of botocore's TestStateInput.

The API layer has already checked the members' JSON types, lengths and enums against
the model; this module parses the JSON-text members and applies the rules between
members, with AWS's errors and messages where AWS's are known.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from scheduler.service.errors import InvalidExecutionInput, ValidationException


@dataclass(frozen=True)
class Mock:
    """`mock`: a result (parsed JSON) or an error to stand in for the state's work."""

    result: Any = None
    has_result: bool = False
    error: str | None = None
    cause: str | None = None
    field_validation_mode: str = "STRICT"


@dataclass(frozen=True)
class StateConfiguration:
    """`stateConfiguration`: where in an execution the test pretends the state is."""

    retrier_retry_count: int = 0
    error_caused_by_state: str | None = None
    map_iteration_failure_count: int | None = None
    map_item_reader_data: Any = None


@dataclass(frozen=True)
class TestStateRequest:
    """Everything TestState was asked, parsed."""

    definition: str
    input: Any = field(default_factory=dict)
    role_arn: str = ""
    inspection_level: str = "INFO"
    reveal_secrets: bool = False
    variables: dict[str, Any] = field(default_factory=dict)
    state_name: str | None = None
    mock: Mock | None = None
    context: dict[str, Any] | None = None
    configuration: StateConfiguration = field(default_factory=StateConfiguration)


def _json(text: str, member: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValidationException(f"Invalid JSON in '{member}': {exc}") from None


def _object(text: str | None, member: str) -> dict[str, Any] | None:
    if text is None:
        return None
    value = _json(text, member)
    if not isinstance(value, dict):
        raise ValidationException(f"'{member}' must be a JSON object")
    return value


def _mock(body: dict[str, Any]) -> Mock | None:
    raw = body.get("mock")
    if raw is None:
        return None
    has_result, error_output = "result" in raw, raw.get("errorOutput")
    if has_result == (error_output is not None):
        raise ValidationException(
            "A test mock should have only one of the following fields: [result, errorOutput]."
        )
    mode = raw.get("fieldValidationMode", "STRICT")
    if has_result:
        return Mock(_json(raw["result"], "mock.result"), True, field_validation_mode=mode)
    if "error" not in error_output:
        raise ValidationException("'mock.errorOutput.error' is required in an errorOutput mock")
    return Mock(error=error_output["error"], cause=error_output.get("cause"))


def _configuration(body: dict[str, Any]) -> StateConfiguration:
    raw = body.get("stateConfiguration") or {}
    reader = raw.get("mapItemReaderData")
    return StateConfiguration(
        retrier_retry_count=raw.get("retrierRetryCount") or 0,
        error_caused_by_state=raw.get("errorCausedByState"),
        map_iteration_failure_count=raw.get("mapIterationFailureCount"),
        map_item_reader_data=None if reader is None else _json(reader, "mapItemReaderData"),
    )


def parse_request(body: dict[str, Any]) -> TestStateRequest:
    """The request's members, parsed; ValidationException / InvalidExecutionInput for bad ones."""
    input_text = body.get("input")
    try:
        value = json.loads(input_text) if input_text is not None else {}
    except ValueError:
        raise InvalidExecutionInput("Invalid State Machine Input: not JSON") from None
    mock = _mock(body)
    reveal = bool(body.get("revealSecrets", False))
    if mock is not None and reveal:
        raise ValidationException(
            "TestState does not support RevealSecrets when a mock is specified."
        )
    if "context" in body and mock is None:
        raise ValidationException("The context field may only be specified with a mock.")
    return TestStateRequest(
        definition=body["definition"],
        input=value,
        role_arn=body.get("roleArn", ""),
        inspection_level=body.get("inspectionLevel", "INFO"),
        reveal_secrets=reveal,
        variables=_object(body.get("variables"), "variables") or {},
        state_name=body.get("stateName"),
        mock=mock,
        context=_object(body.get("context"), "context"),
        configuration=_configuration(body),
    )
