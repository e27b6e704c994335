"""Per-state-type checks: Pass, Task, Wait, Succeed, Fail, Parallel, and Retry/Catch.

Each check sees a state whose `Type` is known and whose fields `check_fields` has already
vetted against the tables in `validate_fields`; it checks the values and the rules that
tie fields together (exactly one of, at most one of, less than). Map and Choice live in
`validate_map` and `validate_choice`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scheduler.asl.errors import ErrorName
from scheduler.asl.validate_common import (
    Code,
    Report,
    StateCtx,
    check_exclusive,
    check_int,
    check_path,
    check_path_or_intrinsic,
    check_reference_path,
    check_string,
    check_template,
    child,
    expect_object,
    is_jsonata,
    is_number,
    is_timestamp,
    kind,
)
from scheduler.asl.validate_fields import (
    BRANCH_FIELDS,
    CATCHER_FIELDS,
    RETRIER_FIELDS,
    STATE_FIELDS,
    check_fields,
    check_required,
)

#: The longest Wait and the largest retry counts AWS accepts.
MAX_WAIT_SECONDS = 99999999
MAX_RETRY_VALUE = 99999999
MAX_DELAY_SECONDS = 31622400
_KNOWN_STATES_ERRORS = frozenset(ErrorName) | {"States.Http.Socket"}


def check_common(ctx: StateCtx, state: dict[str, Any]) -> None:
    """Fields many state types share: Comment, Assign and the data-flow fields.

    Only fields the state type allows are checked here: `check_fields` has already
    reported the others, once.
    """
    report, at = ctx.report, ctx.location
    present = STATE_FIELDS[ctx.type].intersection(state)
    if "Comment" in present:
        check_string(report, child(at, "Comment"), state["Comment"])
    if "Assign" in present:
        check_assign(ctx, child(at, "Assign"), state["Assign"])
    if ctx.jsonata:
        if "Arguments" in present:
            check_jsonata_payload(report, child(at, "Arguments"), state["Arguments"])
        return
    for name in ("InputPath", "OutputPath"):
        if name in present:
            check_path(report, child(at, name), state[name], nullable=True)
    if "ResultPath" in present:
        check_reference_path(report, child(at, "ResultPath"), state["ResultPath"])
    for name in ("Parameters", "ResultSelector"):
        if name in present:
            check_template(report, child(at, name), state[name])
    if "ResultSelector" in present:
        expect_object(report, child(at, "ResultSelector"), state["ResultSelector"])


def check_jsonata_payload(report: Report, location: str, value: Any) -> None:
    """`Arguments` and similar: an object (or array) template, or one JSONata expression."""
    if isinstance(value, dict | list) or is_jsonata(value):
        return
    report.error(
        location, f"must be an object or a JSONata expression {{% ... %}}, got {kind(value)}"
    )


def check_assign(ctx: StateCtx, location: str, value: Any) -> None:
    """`Assign`: an object of variable names; in JSONPath, a payload template."""
    assign = expect_object(ctx.report, location, value)
    if assign is None:
        return
    for key in assign:
        name = key[:-2] if key.endswith(".$") and not ctx.jsonata else key
        if not name.isidentifier():
            ctx.report.error(child(location, key), f'"{name}" is not a valid variable name')
        elif name == "states":
            ctx.report.error(child(location, key), '"states" is reserved: $states is predefined')
    if not ctx.jsonata:
        check_template(ctx.report, location, assign)


def check_pass(ctx: StateCtx, state: dict[str, Any]) -> None:
    """Pass: Result is a literal; `.$` keys in it are not evaluated."""
    if "Result" in state and not ctx.jsonata:
        check_template(ctx.report, child(ctx.location, "Result"), state["Result"], static=True)


def check_task(ctx: StateCtx, state: dict[str, Any]) -> None:
    """Task: Resource, timeouts, credentials, Retry/Catch."""
    report, at = ctx.report, ctx.location
    if check_required(report, at, state, "Resource", "a Task state"):
        check_resource(report, child(at, "Resource"), state["Resource"])
    for name in ("TimeoutSeconds", "HeartbeatSeconds"):
        check_exclusive(report, at, state, name, f"{name}Path")
        if name in state:
            check_int(report, child(at, name), state[name], minimum=1, jsonata=ctx.jsonata)
        if f"{name}Path" in state and not ctx.jsonata:
            check_path(report, child(at, f"{name}Path"), state[f"{name}Path"])
    timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
    if is_number(timeout) and is_number(heartbeat) and heartbeat >= timeout:
        report.error(
            child(at, "HeartbeatSeconds"),
            f"must be smaller than TimeoutSeconds ({timeout}), got {heartbeat}",
        )
    if "Credentials" in state:
        credentials = expect_object(report, child(at, "Credentials"), state["Credentials"])
        if credentials is not None and not ctx.jsonata:
            check_template(report, child(at, "Credentials"), credentials)
    check_error_handling(ctx, state)


def check_resource(report: Report, location: str, value: Any) -> None:
    """A Task or ItemReader/ResultWriter Resource: a non-empty string; ARNs well formed."""
    if not check_string(report, location, value):
        return
    if not value.strip():
        report.error(location, "must not be empty", Code.INVALID_RESOURCE)
    elif value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) < 6 or not parts[1] or not parts[2] or not parts[5]:
            report.error(
                location,
                f'"{value}" is not a valid ARN (arn:partition:service:region:account:resource)',
                Code.INVALID_RESOURCE,
            )


def check_wait(ctx: StateCtx, state: dict[str, Any]) -> None:
    """Wait: exactly one of Seconds, Timestamp, SecondsPath, TimestampPath."""
    report, at = ctx.report, ctx.location
    names = ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
    present = [name for name in names if name in state]
    if not present:
        report.error(
            at, 'a Wait state needs one of "Seconds", "Timestamp", "SecondsPath" or "TimestampPath"'
        )
    check_exclusive(report, at, state, *names)
    if "Seconds" in state:
        check_int(
            report,
            child(at, "Seconds"),
            state["Seconds"],
            minimum=0,
            maximum=MAX_WAIT_SECONDS,
            jsonata=ctx.jsonata,
        )
    timestamp = state.get("Timestamp")
    if "Timestamp" in state and not (ctx.jsonata and is_jsonata(timestamp)):
        if not is_timestamp(timestamp):
            report.error(
                child(at, "Timestamp"),
                f"must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z, "
                f"got {json.dumps(timestamp)}",
            )
    for name in ("SecondsPath", "TimestampPath"):
        if name in state and not ctx.jsonata:
            check_path(report, child(at, name), state[name])


def check_succeed(ctx: StateCtx, state: dict[str, Any]) -> None:
    """Succeed: nothing beyond the common fields."""


def check_fail(ctx: StateCtx, state: dict[str, Any]) -> None:
    """Fail: Error/ErrorPath and Cause/CausePath, each pair mutually exclusive."""
    report, at = ctx.report, ctx.location
    for name in ("Error", "Cause"):
        check_exclusive(report, at, state, name, f"{name}Path")
        if name in state:
            check_string(report, child(at, name), state[name])
        if f"{name}Path" in state and not ctx.jsonata:
            check_path_or_intrinsic(report, child(at, f"{name}Path"), state[f"{name}Path"])


def check_parallel(ctx: StateCtx, state: dict[str, Any]) -> None:
    """Parallel: a non-empty array of Branches, each a state machine of its own."""
    report, at = ctx.report, ctx.location
    if check_required(report, at, state, "Branches", "a Parallel state"):
        branches = state["Branches"]
        where = child(at, "Branches")
        if not isinstance(branches, list):
            report.error(where, f"must be an array of branches, got {kind(branches)}")
        elif not branches:
            report.error(where, "must hold at least one branch")
        for i, branch in enumerate(branches if isinstance(branches, list) else []):
            ctx.nested(branch, child(where, i), BRANCH_FIELDS, "a Parallel branch")
    check_error_handling(ctx, state)


def check_error_handling(ctx: StateCtx, state: dict[str, Any]) -> None:
    """Retry and Catch of a Task, Parallel or Map state."""
    if "Retry" in state:
        _check_handlers(ctx, child(ctx.location, "Retry"), state["Retry"], _check_retrier)
    if "Catch" in state:
        _check_handlers(ctx, child(ctx.location, "Catch"), state["Catch"], _check_catcher)


def _check_handlers(
    ctx: StateCtx,
    location: str,
    value: Any,
    check_one: Callable[[StateCtx, str, dict[str, Any]], None],
) -> None:
    if not isinstance(value, list):
        ctx.report.error(location, f"must be an array, got {kind(value)}")
        return
    for i, item in enumerate(value):
        handler = expect_object(ctx.report, child(location, i), item)
        if handler is None:
            continue
        check_one(ctx, child(location, i), handler)
        _check_error_equals(ctx.report, child(location, i), handler, last=i == len(value) - 1)


def _check_error_equals(report: Report, location: str, handler: dict[str, Any], last: bool) -> None:
    """ErrorEquals: a non-empty array of names; States.ALL alone, in the last handler."""
    if not check_required(report, location, handler, "ErrorEquals", "a retrier or catcher"):
        return
    names, at = handler["ErrorEquals"], child(location, "ErrorEquals")
    if not isinstance(names, list) or not names:
        report.error(at, "must be a non-empty array of error names")
        return
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            report.error(child(at, i), f"must be a non-empty string, got {kind(name)}")
        elif name.startswith("States.") and name not in _KNOWN_STATES_ERRORS:
            report.warning(
                child(at, i),
                f'"{name}" is not a predefined States error name',
                Code.SCHEMA_VALIDATION_FAILED,
            )
    if ErrorName.ALL in names:
        if len(names) > 1:
            report.error(at, '"States.ALL" must appear alone in ErrorEquals')
        if not last:
            report.error(at, '"States.ALL" may only appear in the last retrier or catcher')


def _check_retrier(ctx: StateCtx, location: str, retrier: dict[str, Any]) -> None:
    report = ctx.report
    check_fields(report, location, retrier, RETRIER_FIELDS, "a retrier")
    if "Comment" in retrier:
        check_string(report, child(location, "Comment"), retrier["Comment"])
    limits = {
        "IntervalSeconds": (1, MAX_RETRY_VALUE),
        "MaxAttempts": (0, MAX_RETRY_VALUE),
        "MaxDelaySeconds": (1, MAX_DELAY_SECONDS),
    }
    for name, (low, high) in limits.items():
        if name in retrier:
            check_int(report, child(location, name), retrier[name], minimum=low, maximum=high)
    rate = retrier.get("BackoffRate")
    if "BackoffRate" in retrier and (not is_number(rate) or rate < 1.0):
        shown = json.dumps(rate) if is_number(rate) else kind(rate)
        report.error(child(location, "BackoffRate"), f"must be a number >= 1.0, got {shown}")
    jitter = retrier.get("JitterStrategy")
    if "JitterStrategy" in retrier and jitter not in ("FULL", "NONE"):
        report.error(
            child(location, "JitterStrategy"), f'must be "FULL" or "NONE", got {json.dumps(jitter)}'
        )


def _check_catcher(ctx: StateCtx, location: str, catcher: dict[str, Any]) -> None:
    report = ctx.report
    check_fields(report, location, catcher, CATCHER_FIELDS, "a catcher", jsonata=ctx.jsonata)
    if "Comment" in catcher:
        check_string(report, child(location, "Comment"), catcher["Comment"])
    if check_required(report, location, catcher, "Next", "a catcher"):
        ctx.transition(child(location, "Next"), catcher["Next"])
    if "ResultPath" in catcher and not ctx.jsonata:
        check_reference_path(report, child(location, "ResultPath"), catcher["ResultPath"])
    if "Assign" in catcher:
        check_assign(ctx, child(location, "Assign"), catcher["Assign"])


#: The check for each state type, by `Type`. Map and Choice have modules of their own.
STATE_CHECKS: dict[str, Callable[[StateCtx, dict[str, Any]], None]] = {
    "Pass": check_pass,
    "Task": check_task,
    "Wait": check_wait,
    "Succeed": check_succeed,
    "Fail": check_fail,
    "Parallel": check_parallel,
}
