"""Choice rules (JSONPath flavour): compile once per definition, evaluate per step.

A rule compiles into a tree of small closures: paths are compiled, literal operands are
checked and converted (timestamps parsed, `StringMatches` patterns turned into a regex), so
`ChoiceRule.matches` only reads values and compares them.

Semantics follow the AWS Choice state docs and the ASL spec, checked against the recorded
`choice_operators` conformance cases:

- A value of the wrong type never matches: "Step Functions doesn't attempt to match a
  numeric field to a string value". Booleans are not numbers; `1` equals `1.0`.
- A `Variable` (or `*Path` operand) that selects nothing fails the state with
  `States.Runtime`: "Invalid path '$.x': The choice state's condition path references an
  invalid value." `IsPresent` is the one test that reads a missing path without failing.
- Strings order as Java's `String.compareTo` does ("To understand the behavior of string
  comparisons, see the Java compareTo documentation"): by UTF-16 code unit, which differs
  from Python's code point order for characters above U+FFFF.
- Timestamps "must conform to RFC3339 profile ISO 8601, with further restrictions: an
  uppercase T must separate the date and time portions; an uppercase Z must denote that a
  numeric time zone offset isn't present". They compare as instants.
- `StringMatches`: `*` matches any run of characters (including none); `\\*` is a literal
  `*` and `\\\\` a literal backslash. There is no `StringMatchesPath` in ASL.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from scheduler.asl.errors import StateRuntimeError, SteplineError
from scheduler.asl.jsonata_fields import (
    FieldValue,
    compile_typed,
    compile_value,
    expect_boolean,
)
from scheduler.asl.paths import Path, PathNotFound, compile_path
from scheduler.asl.scope import Scope
from scheduler.asl.variables import Assign, compile_assign

Test = Callable[[Scope], bool]
"""A compiled condition: reads what it needs from the scope, says whether it holds."""


class ChoiceRuleError(SteplineError):
    """A choice rule that cannot be compiled (unknown operator, operand of the wrong type)."""


@dataclass(frozen=True, slots=True)
class ChoiceRule:
    """A compiled top-level choice rule (with `Next`) or nested rule (without)."""

    test: Test = field(repr=False, compare=False)
    """The compiled condition."""
    next: str | None = None
    """The state to go to when the rule matches; None for rules nested in And/Or/Not."""
    kind: str = ""
    """The rule's operator (`And`, `Not`, `NumericEquals`...), for logs and diagnostics."""
    assign: Assign | None = None
    """The rule's own `Assign`, used instead of the state's when the rule matches."""
    output: FieldValue | None = None
    """A JSONata rule's own `Output`, used instead of the state's when the rule matches."""

    def matches(self, scope: Scope) -> bool:
        """Whether the rule holds. Raises StateRuntimeError when a path it reads is missing."""
        return self.test(scope)


# --- reading values -----------------------------------------------------------------------

_MISSING: Final = object()


def _lookup(scope: Scope, path: Path) -> Any:
    """The value `path` names in `scope`, or `_MISSING` when it names nothing."""
    try:
        found = scope.resolve(path)
    except PathNotFound:
        return _MISSING
    if not path.definite and not found:
        return _MISSING  # an indefinite path (not a reference path) that matched nothing
    return found


def _read(scope: Scope, path: Path) -> Any:
    """The value `path` names; a missing value fails the state as AWS does."""
    value = _lookup(scope, path)
    if value is _MISSING:
        raise StateRuntimeError(
            f"Invalid path '{path.text}': "
            "The choice state's condition path references an invalid value."
        )
    return value


# --- value families: which JSON values a comparison accepts, and how they order -----------

_WRONG_TYPE: Final = object()


def _as_number(value: Any) -> Any:
    """Numbers (int or float, never bool) as themselves; anything else is the wrong type."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return _WRONG_TYPE


def _as_string(value: Any) -> Any:
    return value if isinstance(value, str) else _WRONG_TYPE


def _as_boolean(value: Any) -> Any:
    return value if isinstance(value, bool) else _WRONG_TYPE


def _as_timestamp(value: Any) -> Any:
    """An RFC 3339 timestamp string as an orderable instant; anything else is the wrong type."""
    if not isinstance(value, str):
        return _WRONG_TYPE
    instant = parse_timestamp(value)
    return _WRONG_TYPE if instant is None else instant


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_DAYS_PER_400_YEARS: Final = 146_097


def parse_timestamp(text: str) -> tuple[int, str] | None:
    """`text` as an instant `(UTC seconds since 0001-01-01, fraction digits)`, or None.

    Accepts RFC 3339 `date-time` with AWS's restrictions (uppercase `T` and `Z`, seconds
    required, fractional seconds optional). Tuples order as the instants do: trailing zeros
    are dropped from the fraction, so its digits compare as text.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    if hour > 23 or minute > 59 or second > 59:
        return None
    try:
        # The Gregorian calendar repeats every 400 years: shift into datetime's range, which
        # also validates the day of the month (leap years included) for years 0000-9999.
        days = date(2000 + year % 400, month, day).toordinal()
    except ValueError:
        return None
    days += (year // 400 - 5) * _DAYS_PER_400_YEARS
    seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
    if match.group(8) is not None:
        off_hours, off_minutes = int(match.group(9)), int(match.group(10))
        if off_hours > 23 or off_minutes > 59:
            return None
        offset = off_hours * 3_600 + off_minutes * 60
        seconds -= offset if match.group(8) == "+" else -offset
    return seconds, (match.group(7) or "").rstrip("0")


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def _java_order(compare: Callable[[Any, Any], bool]) -> Callable[[str, str], bool]:
    """`compare` applied in Java's String.compareTo order (UTF-16 code units)."""

    def ordered(left: str, right: str) -> bool:
        # With an ASCII side the first difference involves a code unit below 0x80, where
        # code point and code unit order agree; otherwise compare the UTF-16 encodings.
        if left.isascii() or right.isascii():
            return compare(left, right)
        return compare(_utf16(left), _utf16(right))

    return ordered


Relation = Callable[[Any, Any], bool]

_RELATIONS: Final[dict[str, Relation]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}
_STRING_RELATIONS: Final[dict[str, Relation]] = {
    name: (relation if name == "Equals" else _java_order(relation))
    for name, relation in _RELATIONS.items()
}


@dataclass(frozen=True)
class _Family:
    """The values a group of comparisons accepts, and the relations it defines on them."""

    convert: Callable[[Any], Any]
    relations: Mapping[str, Relation]


_FAMILIES: Final[dict[str, _Family]] = {
    "String": _Family(_as_string, _STRING_RELATIONS),
    "Numeric": _Family(_as_number, _RELATIONS),
    "Boolean": _Family(_as_boolean, {"Equals": operator.eq}),
    "Timestamp": _Family(_as_timestamp, _RELATIONS),
}

_COMPARISONS: Final[dict[str, tuple[_Family, Relation]]] = {
    prefix + name: (family, relation)
    for prefix, family in _FAMILIES.items()
    for name, relation in family.relations.items()
}

_TYPE_TESTS: Final[dict[str, Callable[[Any], bool]]] = {
    "IsNull": lambda value: value is None,
    "IsNumeric": lambda value: _as_number(value) is not _WRONG_TYPE,
    "IsString": lambda value: isinstance(value, str),
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsTimestamp": lambda value: _as_timestamp(value) is not _WRONG_TYPE,
}

OPERATORS: Final[frozenset[str]] = frozenset(
    [*_COMPARISONS, *(name + "Path" for name in _COMPARISONS), "StringMatches"]
    + [*_TYPE_TESTS, "IsPresent"]
)
"""Every data-test operator of a JSONPath choice rule."""

_COMBINATORS: Final = ("And", "Or", "Not")


# --- compiling ------------------------------------------------------------------------------


def compile_choice_rule(rule: dict[str, Any]) -> ChoiceRule:
    """Compile one rule of a Choice state's `Choices` (assumes a validated definition).

    Raises ChoiceRuleError for a rule that names no known operator, or a literal operand of
    the wrong type, so a definition that slipped past validation still fails loudly.
    """
    kind, test = _compile(rule)
    next_state = rule.get("Next")
    assign = compile_assign(rule["Assign"], jsonata=False) if "Assign" in rule else None
    return ChoiceRule(test, next_state if isinstance(next_state, str) else None, kind, assign)


def compile_jsonata_rule(rule: dict[str, Any], index: int) -> ChoiceRule:
    """Compile a JSONata rule: `Condition` (true, false or an expression giving a boolean),
    with its own `Assign` and `Output` applied when it matches."""
    if "Condition" not in rule:
        raise ChoiceRuleError("a JSONata choice rule needs a `Condition`")
    at = f"Choices[{index}]"
    condition = compile_typed(rule["Condition"], f"{at}/Condition", expect_boolean)
    assign = None
    if "Assign" in rule:
        assign = compile_assign(rule["Assign"], jsonata=True, location=f"{at}/Assign")
    output = None
    if "Output" in rule:
        output = compile_value(rule["Output"], f"{at}/Output")
    return ChoiceRule(
        lambda scope: bool(condition(scope)), rule.get("Next"), "Condition", assign, output
    )


def _compile(rule: Any) -> tuple[str, Test]:
    """The operator of `rule` and its compiled condition."""
    if not isinstance(rule, dict):
        raise ChoiceRuleError(f"a choice rule must be an object, got {rule!r}")
    combinators = [name for name in _COMBINATORS if name in rule]
    operators = [name for name in rule if name in OPERATORS]
    if len(combinators) + len(operators) != 1:
        found = combinators + operators
        if "Condition" in rule and not found:
            raise ChoiceRuleError("a JSONata `Condition` rule is not a JSONPath choice rule")
        raise ChoiceRuleError(f"a choice rule needs exactly one operator, found {found or 'none'}")
    if combinators:
        return combinators[0], _compile_combinator(combinators[0], rule[combinators[0]])
    name = operators[0]
    if "Variable" not in rule:
        raise ChoiceRuleError(f"the {name} rule has no `Variable`")
    return name, _compile_data_test(name, compile_path(rule["Variable"]), rule[name])


def _compile_combinator(name: str, operand: Any) -> Test:
    """`And`/`Or` over a non-empty list of nested rules, or `Not` over one."""
    if name == "Not":
        inner = _compile(operand)[1]
        return lambda scope: not inner(scope)
    if not isinstance(operand, list) or not operand:
        raise ChoiceRuleError(f"`{name}` needs a non-empty array of choice rules")
    tests = tuple(_compile(nested)[1] for nested in operand)
    return _all_of(tests) if name == "And" else _any_of(tests)


def _all_of(tests: tuple[Test, ...]) -> Test:
    def all_hold(scope: Scope) -> bool:
        for test in tests:
            if not test(scope):
                return False
        return True

    return all_hold


def _any_of(tests: tuple[Test, ...]) -> Test:
    def any_holds(scope: Scope) -> bool:
        for test in tests:
            if test(scope):
                return True
        return False

    return any_holds


def _compile_data_test(name: str, variable: Path, operand: Any) -> Test:
    """One data-test expression: `Variable` against a literal, a path, or a type."""
    if name == "IsPresent" or name in _TYPE_TESTS:
        if not isinstance(operand, bool):
            raise ChoiceRuleError(f"`{name}` must be true or false, got {operand!r}")
        return _type_test(name, variable, operand)
    if name == "StringMatches":
        if not isinstance(operand, str):
            raise ChoiceRuleError(f"`StringMatches` must be a string, got {operand!r}")
        return _string_matches(variable, wildcard_regex(operand))
    if name.endswith("Path"):
        family, relation = _COMPARISONS[name[: -len("Path")]]
        return _compare_path(variable, compile_path(operand), family.convert, relation)
    family, relation = _COMPARISONS[name]
    literal = family.convert(operand)
    if literal is _WRONG_TYPE:
        raise ChoiceRuleError(f"`{name}` cannot compare with {operand!r}: wrong type")
    return _compare_literal(variable, literal, family.convert, relation)


def _type_test(name: str, variable: Path, expected: bool) -> Test:
    if name == "IsPresent":
        return lambda scope: (_lookup(scope, variable) is not _MISSING) is expected
    is_type = _TYPE_TESTS[name]
    return lambda scope: is_type(_read(scope, variable)) is expected


def _compare_literal(
    variable: Path, literal: Any, convert: Callable[[Any], Any], relation: Relation
) -> Test:
    def compare(scope: Scope) -> bool:
        value = convert(_read(scope, variable))
        return value is not _WRONG_TYPE and relation(value, literal)

    return compare


def _compare_path(
    variable: Path, other: Path, convert: Callable[[Any], Any], relation: Relation
) -> Test:
    def compare(scope: Scope) -> bool:
        value = convert(_read(scope, variable))
        reference = convert(_read(scope, other))
        if value is _WRONG_TYPE or reference is _WRONG_TYPE:
            return False
        return bool(relation(value, reference))

    return compare


def _string_matches(variable: Path, pattern: re.Pattern[str]) -> Test:
    def matches(scope: Scope) -> bool:
        value = _read(scope, variable)
        return isinstance(value, str) and pattern.fullmatch(value) is not None

    return matches


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """The regex for a `StringMatches` pattern: `*` is any run; `\\*`, `\\\\` are literals.

    A backslash before any other character also makes that character literal, and a
    trailing lone backslash is itself; validation is the place to reject those.
    """
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            index += 1
            parts.append(re.escape(pattern[index]))
        elif char == "*":
            if not parts or parts[-1] != ".*":
                parts.append(".*")
        else:
            parts.append(re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)
