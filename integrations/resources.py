"""Task resource strings: what kind of thing an ARN names, as AWS's history reports it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LAMBDA_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):lambda:(?P<region>[\w-]*):(?P<account>\d*):function:"
    r"(?P<name>[\w-]+)(?::(?P<qualifier>[\w$-]+))?$"
)
_SERVICE_ARN = re.compile(r"^arn:[\w-]+:states:(?P<region>[\w-]*):(?P<account>\d*):(?P<rest>.+)$")


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """How history names a Task resource: a Lambda function or a service integration."""

    resource: str
    is_lambda_function: bool
    resource_type: str
    name: str


def lambda_function_name(resource: str) -> str | None:
    """The function name in a Lambda ARN (`arn:aws:lambda:...:function:NAME[:QUALIFIER]`)."""
    match = _LAMBDA_ARN.match(resource)
    return match.group("name") if match else None


def describe_resource(resource: str) -> ResourceInfo:
    """Classify a Task's `Resource`.

    `arn:aws:states:::lambda:invoke` gives resource type `lambda` and resource `invoke`,
    as AWS's TaskScheduled events do; a bare name (a local handler) is type `local`.
    """
    name = lambda_function_name(resource)
    if name is not None:
        return ResourceInfo(resource, True, "lambda", name)
    match = _SERVICE_ARN.match(resource)
    if match:
        rest = match.group("rest")
        if rest.startswith("activity:"):
            return ResourceInfo(resource, False, "activity", rest[len("activity:") :])
        service, _, action = rest.partition(":")
        return ResourceInfo(resource, False, service, action)
    return ResourceInfo(resource, False, "local", resource)
