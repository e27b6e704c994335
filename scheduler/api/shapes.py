"""Request checks from botocore's Step Functions service model, as AWS's front end does.

The model is the authoritative list of actions, members, types and constraints. A member
of the wrong JSON type is a SerializationException; a missing required member, a length,
range, enum or pattern violation is a ValidationException worded as AWS words it:
`1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: ...`.
Payload members (`input`, `output`) are not length-checked here: their limit is a setting
(default AWS's 256 KiB) that the service enforces with AWS's InvalidExecutionInput.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.session

from scheduler.api.errors import ApiError, ProtocolCode

#: Shapes whose size is a Stepline setting rather than a fixed model constraint.
_PAYLOAD_SHAPES = frozenset({"SensitiveData"})
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
    "blob": (str,),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
}


@functools.cache
def service_model() -> Any:
    """botocore's model of the `stepfunctions` service."""
    return botocore.session.get_session().get_service_model("stepfunctions")


def operation_names() -> list[str]:
    """Every action of the service, as the model names them."""
    return list(service_model().operation_names)


@functools.cache
def _pattern(text: str) -> re.Pattern[str] | None:
    """A model pattern (Java syntax) as a Python regex; None where Python cannot say."""
    try:
        return re.compile(text.replace(r"\p{ASCII}", r"[\x00-\x7f]"))
    except re.error:
        return None


def check_request(action: str, body: dict[str, Any]) -> None:
    """Refuse `body` as AWS would for `action` (SerializationException, ValidationException)."""
    shape = service_model().operation_model(action).input_shape
    if shape is None:
        return
    problems: list[str] = []
    _structure(shape, body, "", problems)
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise ApiError(
            ProtocolCode.VALIDATION, f"{count} validation {noun} detected: " + "; ".join(problems)
        )


def _member_path(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def _structure(shape: Any, value: dict[str, Any], path: str, problems: list[str]) -> None:
    for name in shape.required_members:
        if value.get(name) is None:
            problems.append(
                f"Value null at '{_member_path(path, name)}' failed to satisfy constraint: "
                "Member must not be null"
            )
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _value(member, value[name], _member_path(path, name), problems)


def _value(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    if not _type_ok(shape.type_name, value):
        raise ApiError(
            ProtocolCode.SERIALIZATION,
            f"Expected a {shape.type_name} at '{path}', got {type(value).__name__}",
        )
    if shape.type_name == "structure":
        _structure(shape, value, path, problems)
    elif shape.type_name == "list":
        _constraints(shape, value, len(value), path, problems)
        for index, item in enumerate(value, start=1):
            _value(shape.member, item, f"{path}.{index}.member", problems)
    elif shape.type_name == "map":
        for key, item in value.items():
            _value(shape.value, item, f"{path}.{key}", problems)
    elif shape.type_name == "string":
        _constraints(shape, value, len(value), path, problems)
    elif shape.type_name in ("integer", "long", "float", "double"):
        _range(shape, value, path, problems)


def _type_ok(type_name: str, value: Any) -> bool:
    kinds = _JSON_TYPES.get(type_name, (object,))
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


def _describe(shape: Any, value: Any, path: str) -> str:
    if shape.metadata.get("sensitive") or not isinstance(value, str | int | float):
        return f"Value at '{path}'"
    return f"Value '{value}' at '{path}'"


def _constraints(shape: Any, value: Any, length: int, path: str, problems: list[str]) -> None:
    meta = shape.metadata
    failed = None
    if "min" in meta and length < meta["min"]:
        failed = f"Member must have length greater than or equal to {meta['min']}"
    elif "max" in meta and length > meta["max"] and shape.name not in _PAYLOAD_SHAPES:
        failed = f"Member must have length less than or equal to {meta['max']}"
    elif isinstance(value, str) and shape.enum and value not in shape.enum:
        failed = f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
    elif isinstance(value, str) and "pattern" in meta:
        pattern = _pattern(meta["pattern"])
        if pattern is not None and not pattern.search(value):
            failed = f"Member must satisfy regular expression pattern: {meta['pattern']}"
    if failed:
        problems.append(f"{_describe(shape, value, path)} failed to satisfy constraint: {failed}")


def _range(shape: Any, value: float, path: str, problems: list[str]) -> None:
    meta = shape.metadata
    failed = None
    if "min" in meta and value < meta["min"]:
        failed = f"Member must have value greater than or equal to {meta['min']}"
    elif "max" in meta and value > meta["max"]:
        failed = f"Member must have value less than or equal to {meta['max']}"
    if failed:
        problems.append(f"{_describe(shape, value, path)} failed to satisfy constraint: {failed}")
