"""Task resource strings: what kind of thing an ARN names, as AWS's history reports it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LAMBDA_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):lambda:(?P<region>[\w-]*):(?P<account>\d*):function:"
    r"(?P<name>[\w-]+)(?::(?P<qualifier>[\w$-]+))?$"
)
#: What Lambda's Invoke accepts as FunctionName besides a full ARN:
#: `NAME`, `NAME:QUALIFIER`, `ACCOUNT:function:NAME` and `ACCOUNT:function:NAME:QUALIFIER`.
_FUNCTION_NAME = re.compile(
    r"^(?:(?P<account>\d{12}):function:)?(?P<name>[\w-]+)(?::(?P<qualifier>[\w$-]+))?$"
)
_SERVICE_ARN = re.compile(r"^arn:[\w-]+:states:(?P<region>[\w-]*):(?P<account>\d*):(?P<rest>.+)$")
_AWS_SDK = "aws-sdk:"


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


def invoke_function_name(function: str) -> tuple[str, str] | None:
    """`(name, qualifier)` of any FunctionName Lambda's Invoke accepts, or None.

    A full or partial ARN, or a plain name, each with an optional version or alias:
    `my-fn`, `my-fn:prod`, `123456789012:function:my-fn`, `arn:aws:lambda:...:my-fn:1`.
    The qualifier is `""` when there is none.
    """
    match = _LAMBDA_ARN.match(function) or _FUNCTION_NAME.match(function)
    if match is None:
        return None
    return match.group("name"), match.group("qualifier") or ""


def describe_resource(resource: str) -> ResourceInfo:
    """Classify a Task's `Resource`.

    `arn:aws:states:::lambda:invoke` gives resource type `lambda` and resource `invoke`,
    and `arn:aws:states:::aws-sdk:s3:getObject` type `aws-sdk:s3` and resource
    `getObject`, as AWS's TaskScheduled events do; a bare name (a local handler) is type
    `local`.
    """
    name = lambda_function_name(resource)
    if name is not None:
        return ResourceInfo(resource, True, "lambda", name)
    match = _SERVICE_ARN.match(resource)
    if match:
        rest = match.group("rest")
        if rest.startswith("activity:"):
            return ResourceInfo(resource, False, "activity", rest[len("activity:") :])
        if rest.startswith(_AWS_SDK):
            service, _, action = rest[len(_AWS_SDK) :].partition(":")
            return ResourceInfo(resource, False, _AWS_SDK + service, action)
        service, _, action = rest.partition(":")
        return ResourceInfo(resource, False, service, action)
    return ResourceInfo(resource, False, "local", resource)
