"""TestState's `mock.result` checked against the AWS API model of the Task's integration.

`fieldValidationMode` STRICT (the default) checks every present field's type and
constraints and that required fields are there; PRESENT checks only the present fields;
NONE checks nothing. Fields the model does not know are allowed, as AWS allows them. The
models are botocore's; a resource with no API model behind it (a Lambda function ARN,
an activity, `http:invoke`, a `.sync` or `.waitForTaskToken` pattern, whose result is
not the API call's) is not checked. Errors are worded as AWS words them:
`Mock result schema validation error: Field 'Entries' must be an array`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from integrations.aws_clients import java_member_name
from integrations.aws_sdk import SERVICE_ALIASES
from scheduler.service.errors import ValidationException

PREFIX = "arn:aws:states:::"
Naming = Callable[[str], str]
#: Optimized integrations named otherwise than botocore names the service.
_OPTIMIZED_ALIASES = {"states": "stepfunctions"}
#: Members Step Functions returns differently from the API (Lambda's Payload is JSON).
_SKIPPED = {("lambda", "Invoke", "Payload")}

_NUMBERS = ("integer", "long", "float", "double")
_EXPECTED: dict[str, tuple[tuple[type, ...], str]] = {
    "string": ((str,), "a string"),
    "blob": ((str,), "a string"),
    "timestamp": ((str,), "a string"),
    "boolean": ((bool,), "a boolean"),
    "structure": ((dict,), "an object"),
    "map": ((dict,), "an object"),
    "list": ((list,), "an array"),
    **{number: ((int, float), "a number") for number in _NUMBERS},
}


def _fail(message: str) -> ValidationException:
    return ValidationException(f"Mock result schema validation error: {message}")


@functools.cache
def _services() -> dict[str, str]:
    """Every botocore service name, also keyed without hyphens."""
    names = botocore.session.get_session().get_available_services()
    return {**{name.replace("-", ""): name for name in names}, **{name: name for name in names}}


@functools.cache
def _operation(service: str, action: str) -> OperationModel | None:
    """botocore's operation for a Step Functions service and action name, or None."""
    name = _OPTIMIZED_ALIASES.get(service) or SERVICE_ALIASES.get(service) or service
    found = _services().get(name.lower())
    if found is None:
        return None
    model = botocore.session.get_session().get_service_model(found)
    for operation in model.operation_names:
        if operation.lower() == action.lower():
            return model.operation_model(operation)
    return None


def _capitalized(name: str) -> str:
    return name[:1].upper() + name[1:]


def operation_for(resource: str) -> tuple[OperationModel, Naming] | None:
    """The API operation whose output a Task's result is, and how Step Functions names
    its members (aws-sdk: SDK v2 names; optimized: the API's, capitalized), or None."""
    if not resource.startswith(PREFIX) or "." in resource[len(PREFIX) :]:
        return None
    parts = resource[len(PREFIX) :].split(":")
    operation = None
    if parts[0] == "aws-sdk" and len(parts) == 3:
        operation = _operation(parts[1], parts[2])
        return None if operation is None else (operation, java_member_name)
    if len(parts) == 2 and parts[0] != "http":
        operation = _operation(parts[0], parts[1])
    return None if operation is None else (operation, _capitalized)


def check_mock_result(resource: str, result: Any, mode: str) -> None:
    """Refuse a mocked Task result that does not fit the integration's API model."""
    found = operation_for(resource)
    if mode == "NONE" or found is None or found[0].output_shape is None:
        return
    operation, naming = found
    skipped = frozenset(
        member
        for service, name, member in _SKIPPED
        if service == operation.service_model.service_name and name == operation.name
    )
    if not isinstance(result, dict):
        raise _fail("The mocked result must be a JSON object")
    checker = _Checker(mode == "STRICT", naming)
    checker.structure(operation.output_shape, result, skipped)


@dataclass(frozen=True)
class _Checker:
    strict: bool
    naming: Naming

    def structure(
        self, shape: StructureShape, value: dict[str, Any], skipped: frozenset[str] = frozenset()
    ) -> None:
        members = {self.naming(name): member for name, member in shape.members.items()}
        if self.strict:
            for name in map(self.naming, shape.required_members):
                if name not in value and name not in skipped:
                    raise _fail(f"Required field '{name}' is missing")
        for name, member in members.items():
            if name in value and name not in skipped:
                self.value(name, member, value[name])

    def value(self, name: str, shape: Shape, value: Any) -> None:
        """One field: its JSON type, its constraints, and what it holds."""
        _check_type(name, shape, value)
        _check_constraints(name, shape, value)
        if isinstance(shape, StructureShape):
            self.structure(shape, value)
        elif isinstance(shape, ListShape):
            for item in value:
                self.value(name, shape.member, item)
        elif isinstance(shape, MapShape):
            for item in value.values():
                self.value(name, shape.value, item)


def _check_type(name: str, shape: Shape, value: Any) -> None:
    types, wanted = _EXPECTED.get(shape.type_name, ((object,), "a value"))
    if not isinstance(value, types) or (shape.type_name in _NUMBERS and isinstance(value, bool)):
        raise _fail(f"Field '{name}' must be {wanted}")


def _check_constraints(name: str, shape: Shape, value: Any) -> None:
    metadata = shape.metadata
    if getattr(shape, "enum", None) and value not in shape.enum:
        raise _fail(f"Field '{name}' is not an expected value")
    if shape.type_name in _NUMBERS:
        if "min" in metadata and value < metadata["min"]:
            raise _fail(f"Field '{name}' is less than the minimum value")
        if "max" in metadata and value > metadata["max"]:
            raise _fail(f"Field '{name}' exceeds the maximum value")
    elif shape.type_name in ("string", "blob", "list"):
        if "min" in metadata and len(value) < metadata["min"]:
            raise _fail(f"Field '{name}' is smaller than the minimum length")
        if "max" in metadata and len(value) > metadata["max"]:
            raise _fail(f"Field '{name}' is larger than the maximum length")
