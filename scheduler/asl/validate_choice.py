"""Choice state checks: Choices, Default, and every rule in them.

JSONPath rules hold exactly one comparison operator (with `Variable`) or one of
`And`/`Or`/`Not`; top-level rules need `Next`, nested ones must not have it. Operand types
follow the operator: strings for String*, numbers for Numeric*, booleans for BooleanEquals
and the Is* tests, RFC 3339 strings for Timestamp*, paths for *Path. JSONata rules hold a
`Condition` instead.
"""

from __future__ import annotations

import json
from typing import Any

from scheduler.asl.validate_common import (
    MAX_NESTING,
    Code,
    StateCtx,
    check_path,
    child,
    expect_object,
    is_jsonata,
    is_number,
    is_timestamp,
    kind,
)
from scheduler.asl.validate_fields import check_fields, check_required
from scheduler.asl.validate_states import check_assign


def _operators() -> dict[str, str]:
    """Every JSONPath comparison operator, mapped to the operand it takes."""
    table: dict[str, str] = {}
    for suffix in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"):
        for prefix, operand in (
            ("String", "string"),
            ("Numeric", "number"),
            ("Timestamp", "timestamp"),
        ):
            table[prefix + suffix] = operand
            table[prefix + suffix + "Path"] = "path"
    table.update(
        {"BooleanEquals": "boolean", "BooleanEqualsPath": "path", "StringMatches": "string"}
    )
    for test in ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"):
        table[test] = "boolean"
    return table


#: Comparison operator -> operand type.
OPERATORS = _operators()
BOOLEAN_OPERATORS = ("And", "Or", "Not")
_RULE_FIELDS = frozenset(OPERATORS) | set(BOOLEAN_OPERATORS) | {"Variable", "Comment"}
#: "Condition" is listed so that a JSONPath rule using it gets a hint to switch language.
TOP_RULE_FIELDS = _RULE_FIELDS | {"Next", "Assign", "Condition"}
NESTED_RULE_FIELDS = _RULE_FIELDS | {"Condition"}
JSONATA_RULE_FIELDS = frozenset({"Condition", "Next", "Assign", "Output", "Comment"})
_KNOWN_RULE_FIELDS = TOP_RULE_FIELDS | JSONATA_RULE_FIELDS

_OPERAND_TEXT = {
    "string": "a string",
    "number": "a number",
    "boolean": "true or false",
    "timestamp": "an RFC 3339 timestamp string such as 2016-03-14T01:59:00Z",
}


def check_choice(ctx: StateCtx, state: dict[str, Any]) -> None:
    """Choice: a non-empty Choices array of rules, and an optional Default target."""
    report, at = ctx.report, ctx.location
    if check_required(report, at, state, "Choices", "a Choice state"):
        choices, where = state["Choices"], child(at, "Choices")
        if not isinstance(choices, list):
            report.error(where, f"must be an array of choice rules, got {kind(choices)}")
        elif not choices:
            report.error(where, "must hold at least one choice rule")
        for i, rule in enumerate(choices if isinstance(choices, list) else []):
            _check_rule(ctx, child(where, i), rule, nested=False, depth=0)
    if "Default" in state:
        ctx.transition(child(at, "Default"), state["Default"])


def _check_rule(ctx: StateCtx, location: str, value: Any, *, nested: bool, depth: int) -> None:
    report = ctx.report
    if depth > MAX_NESTING:
        report.error(
            location,
            f"choice rules are nested more than {MAX_NESTING} levels deep",
            Code.TOO_DEEPLY_NESTED,
        )
        return
    rule = expect_object(report, location, value)
    if rule is None:
        return
    if ctx.jsonata:
        _check_jsonata_rule(ctx, location, rule)
        return
    allowed = NESTED_RULE_FIELDS if nested else TOP_RULE_FIELDS
    what = "a nested choice rule (inside And/Or/Not)" if nested else "a choice rule"
    check_fields(report, location, rule, allowed, what, jsonata=False, known=_KNOWN_RULE_FIELDS)
    if not nested and check_required(report, location, rule, "Next", "a top-level choice rule"):
        ctx.transition(child(location, "Next"), rule["Next"])
    if "Assign" in rule and not nested:
        check_assign(ctx, child(location, "Assign"), rule["Assign"])
    operators = [k for k in rule if k in OPERATORS or k in BOOLEAN_OPERATORS]
    if not operators:
        report.error(
            location,
            "a choice rule needs one comparison operator (such as "
            '"StringEquals" or "IsPresent") or one of "And", "Or", "Not"',
        )
    elif len(operators) > 1:
        listed = ", ".join(f'"{k}"' for k in operators)
        report.error(location, f"a choice rule holds exactly one operator, found {listed}")
    for name in operators:
        if name in BOOLEAN_OPERATORS:
            _check_boolean(ctx, location, rule, name, depth)
        else:
            _check_comparison(ctx, location, rule, name)


def _check_boolean(
    ctx: StateCtx, location: str, rule: dict[str, Any], name: str, depth: int
) -> None:
    report, at, value = ctx.report, child(location, name), rule[name]
    if "Variable" in rule:
        report.error(
            child(location, "Variable"),
            f'"Variable" does not belong in a rule combined with "{name}"',
        )
    if name == "Not":
        _check_rule(ctx, at, value, nested=True, depth=depth + 1)
        return
    if not isinstance(value, list):
        report.error(at, f"must be an array of choice rules, got {kind(value)}")
        return
    if not value:
        report.error(at, "must hold at least one choice rule")
    for i, item in enumerate(value):
        _check_rule(ctx, child(at, i), item, nested=True, depth=depth + 1)


def _check_comparison(ctx: StateCtx, location: str, rule: dict[str, Any], name: str) -> None:
    report = ctx.report
    if check_required(report, location, rule, "Variable", f'a rule with "{name}"'):
        check_path(report, child(location, "Variable"), rule["Variable"])
    operand, value, at = OPERATORS[name], rule[name], child(location, name)
    if operand == "path":
        check_path(report, at, value)
        return
    valid = {
        "string": isinstance(value, str),
        "number": is_number(value),
        "boolean": isinstance(value, bool),
        "timestamp": is_timestamp(value),
    }[operand]
    if not valid:
        shown = json.dumps(value) if isinstance(value, str) else kind(value)
        report.error(at, f"{name} takes {_OPERAND_TEXT[operand]}, got {shown}")


def _check_jsonata_rule(ctx: StateCtx, location: str, rule: dict[str, Any]) -> None:
    report = ctx.report
    check_fields(
        report,
        location,
        rule,
        JSONATA_RULE_FIELDS,
        "a JSONata choice rule",
        jsonata=True,
        known=_KNOWN_RULE_FIELDS,
    )
    if check_required(report, location, rule, "Condition", "a JSONata choice rule"):
        condition = rule["Condition"]
        if not isinstance(condition, bool) and not is_jsonata(condition):
            shown = json.dumps(condition) if isinstance(condition, str) else kind(condition)
            report.error(
                child(location, "Condition"),
                f"must be a JSONata expression {{% ... %}} or a boolean, got {shown}",
            )
    if check_required(report, location, rule, "Next", "a choice rule"):
        ctx.transition(child(location, "Next"), rule["Next"])
    if "Assign" in rule:
        check_assign(ctx, child(location, "Assign"), rule["Assign"])
