"""Workflow variables: `Assign` in either query language, and AWS's limits on them.

`Assign` is an object of variable names. In a JSONPath state it is a payload template (a
key ending in `.$` takes a path or an intrinsic call, `$` being the state's result); in a
JSONata state its values may be `{% %}` expressions over `$states`.

Evaluation order (AWS, "Passing data between states with variables"): every expression in
a state, Assign included, reads the variables as they were when the state was entered, so
`{"old": "{% $x %}", "x": 2}` saves the previous `x`; the new values are visible from the
next state on (the engine merges them into the run). What Assign reads as `$` in JSONPath:

- Task, Parallel, Map: the result after ResultSelector (before ResultPath);
- Pass: its result (`Result`, or the Parameters output, or the InputPath-selected input);
- Choice, Wait: the InputPath-selected input;
- a catcher: the error output `{"Error", "Cause"}`.

In JSONata, Assign sees `$states.input`, `$states.context` and, after a Task, Parallel or
Map succeeded, `$states.result`; in a catcher, `$states.errorOutput`.

Limits (AWS quotas): one variable's value at most 256 KiB, one Assign at most 256 KiB
together, and all the variables an execution holds at most 10 MiB, each measured as
compact UTF-8 JSON. Going over fails the state with `States.DataLimitExceeded`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from scheduler.asl.errors import ErrorName, StatesError
from scheduler.asl.jsonata_fields import compile_value
from scheduler.asl.payload import compile_template
from scheduler.asl.scope import Scope

MAX_VARIABLE_BYTES: Final = 256 * 1024
MAX_ASSIGN_BYTES: Final = 256 * 1024
MAX_TOTAL_BYTES: Final = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Assign:
    """A compiled `Assign` field: `evaluate(scope)` gives the variables it sets."""

    names: tuple[str, ...]
    """The variable names it assigns (JSONPath `.$` suffixes removed)."""
    evaluate: Callable[[Scope], dict[str, Any]] = field(repr=False, compare=False)


def variable_name(key: str, jsonata: bool) -> str:
    """The variable an Assign key names: JSONPath's `x.$` assigns `x`."""
    return key[:-2] if not jsonata and key.endswith(".$") else key


def compile_assign(value: dict[str, Any], *, jsonata: bool, location: str = "Assign") -> Assign:
    """Compile a validated Assign object."""
    names = tuple(variable_name(key, jsonata) for key in value)
    if jsonata:
        evaluator = compile_value(value, location)
    else:
        evaluator = compile_template(value)

    def evaluate(scope: Scope) -> dict[str, Any]:
        assigned = evaluator(scope)
        assert isinstance(assigned, dict)
        return assigned

    return Assign(names, evaluate)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _limit_error(what: str, size: int, limit: int) -> StatesError:
    return StatesError(
        ErrorName.DATA_LIMIT_EXCEEDED,
        f"{what} has a size of {size} bytes, over the limit of {limit} bytes.",
    )


def check_limits(assigned: Mapping[str, Any], variables: Mapping[str, Any]) -> None:
    """Raise States.DataLimitExceeded when `assigned` breaks one of AWS's variable limits.

    `variables` are the ones in scope before the assignment.
    """
    sizes = {name: _size(value) for name, value in assigned.items()}
    for name, size in sizes.items():
        if size > MAX_VARIABLE_BYTES:
            raise _limit_error(f"The value of the variable '{name}'", size, MAX_VARIABLE_BYTES)
    together = sum(sizes.values())
    if together > MAX_ASSIGN_BYTES:
        raise _limit_error("The variables of this Assign", together, MAX_ASSIGN_BYTES)
    kept = {name: value for name, value in variables.items() if name not in assigned}
    total = together + (_size(kept) if kept else 0)
    if total > MAX_TOTAL_BYTES:
        raise _limit_error("The variables of this execution", total, MAX_TOTAL_BYTES)


def run_assign(assign: Assign | None, scope: Scope) -> dict[str, Any] | None:
    """Evaluate `assign` in `scope` and check the limits; None when there is no Assign."""
    if assign is None:
        return None
    assigned = assign.evaluate(scope)
    check_limits(assigned, scope.variables)
    return assigned
