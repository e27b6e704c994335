"""Which fields each part of a definition may hold, and in which query language.

The tables follow the AWS Step Functions documentation of each state type. A field that
no table knows is *unknown* (maybe newer than Stepline): an ERROR, or a WARNING when the
caller asks for leniency. A known field in the wrong place (`Next` on a Succeed state,
`Parameters` in a JSONata state) is always an ERROR.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any

from scheduler.asl.validate_common import Report, child

COMMON = frozenset({"Type", "Comment", "QueryLanguage"})
_FLOW = frozenset({"Next", "End"})
_IO = frozenset({"InputPath", "OutputPath", "Output"})
_TASK_IO = frozenset({"Parameters", "Arguments", "ResultSelector", "ResultPath"})
_ERRORS = frozenset({"Retry", "Catch"})
_TIMEOUTS = frozenset(
    {"TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"}
)
_MAP = frozenset(
    {
        "ItemProcessor",
        "Iterator",
        "ItemsPath",
        "Items",
        "ItemSelector",
        "Parameters",
        "ResultSelector",
        "ResultPath",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "MaxConcurrency",
        "MaxConcurrencyPath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "Label",
    }
)

#: The fields each state type allows, in either query language.
STATE_FIELDS: dict[str, frozenset[str]] = {
    "Pass": COMMON | _FLOW | _IO | {"Assign", "Parameters", "Result", "ResultPath"},
    "Task": COMMON
    | _FLOW
    | _IO
    | _TASK_IO
    | _ERRORS
    | _TIMEOUTS
    | {"Assign", "Resource", "Credentials"},
    "Choice": COMMON | _IO | {"Assign", "Choices", "Default"},
    "Wait": COMMON
    | _FLOW
    | _IO
    | {"Assign", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
    "Succeed": COMMON | _IO,
    "Fail": COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": COMMON | _FLOW | _IO | _TASK_IO | _ERRORS | {"Assign", "Branches"},
    "Map": COMMON | _FLOW | _IO | _ERRORS | _MAP | {"Assign"},
}
STATE_TYPES = tuple(STATE_FIELDS)
#: Every field some state type allows: elsewhere it is misplaced, not unknown.
KNOWN_STATE_FIELDS = frozenset().union(*STATE_FIELDS.values())

TOP_LEVEL_FIELDS = frozenset(
    {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}
)
BRANCH_FIELDS = frozenset({"StartAt", "States", "Comment"})
PROCESSOR_FIELDS = BRANCH_FIELDS | {"ProcessorConfig"}
KNOWN_MACHINE_FIELDS = TOP_LEVEL_FIELDS | PROCESSOR_FIELDS

RETRIER_FIELDS = frozenset(
    {
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    }
)
CATCHER_FIELDS = frozenset({"ErrorEquals", "Next", "ResultPath", "Output", "Assign", "Comment"})

_JSONATA_EXPR = "a JSONata {% ... %} expression"

#: Fields that exist only in JSONPath states, with what to use in JSONata instead.
JSONPATH_ONLY: dict[str, str] = {
    "InputPath": 'read the input as $states.input in "Arguments" or "Output"',
    "OutputPath": 'use "Output"',
    "Parameters": 'use "Arguments" (Task, Parallel), "Output" (Pass) or "ItemSelector" (Map)',
    "ResultSelector": 'use "Output" with $states.result',
    "ResultPath": 'use "Output" (or "Assign") with $states.result',
    "Result": 'use "Output"',
    "ItemsPath": 'use "Items"',
    "Variable": 'use "Condition"',
}
for _name in (
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
):
    JSONPATH_ONLY[_name] = f'use "{_name[:-4]}" with {_JSONATA_EXPR}'

#: Fields that exist only in JSONata states, with what to use in JSONPath instead.
JSONATA_ONLY: dict[str, str] = {
    "Arguments": 'use "Parameters"',
    "Output": 'use "OutputPath" / "ResultSelector"',
    "Items": 'use "ItemsPath"',
    "Condition": 'use "Variable" with a comparison operator',
}


def check_fields(
    report: Report,
    location: str,
    node: dict[str, Any],
    allowed: Collection[str],
    what: str,
    *,
    jsonata: bool | None = None,
    known: Collection[str] = (),
) -> None:
    """Report every member of `node` that `allowed` does not hold, or that the language forbids.

    `what` names the object in messages ("a Pass state"). Members in `known` but not in
    `allowed` are misplaced (always an ERROR); members in neither are unknown. With
    `jsonata` set (True/False) the JSONPath-only / JSONata-only tables apply too.
    """
    for key in node:
        at = child(location, key)
        if key not in allowed:
            _report_disallowed(report, at, key, allowed, what, known)
        elif jsonata is True and key in JSONPATH_ONLY:
            report.error(
                at,
                f'"{key}" is a JSONPath field, but this state uses JSONata: {JSONPATH_ONLY[key]}',
            )
        elif jsonata is False and key in JSONATA_ONLY:
            report.error(
                at,
                f'"{key}" is a JSONata field, but this state uses JSONPath: '
                f'set "QueryLanguage": "JSONata", or {JSONATA_ONLY[key]}',
            )


def _report_disallowed(
    report: Report,
    at: str,
    key: str,
    allowed: Collection[str],
    what: str,
    known: Collection[str],
) -> None:
    if key in known:
        report.error(at, f'"{key}" is not allowed in {what}')
        return
    hint = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.75)
    suffix = f' (did you mean "{hint[0]}"?)' if hint else ""
    report.unknown(at, f'unknown field "{key}" in {what}{suffix}')


def check_required(
    report: Report, location: str, node: dict[str, Any], name: str, what: str
) -> bool:
    """Report when `node` lacks the required member `name`."""
    if name in node:
        return True
    report.error(location, f'{what} must have a "{name}" field')
    return False
