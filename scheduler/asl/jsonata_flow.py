"""JSONata input and output processing: Arguments, then Assign and Output.

A JSONata state has two data-flow fields instead of JSONPath's five: `Arguments` (Task,
Parallel: what the task or the branches get; default the state input) and `Output` (what
the state passes on; default the result of a Task, Parallel or Map, the error output in a
catcher, the input elsewhere). Assign and Output read the same `$states` and the variables
as they were when the state was entered; Assign is evaluated first.
"""

from __future__ import annotations

from typing import Any

from scheduler.asl.jsonata_fields import FieldValue
from scheduler.asl.model import JsonataFlow
from scheduler.asl.scope import Scope
from scheduler.asl.variables import Assign, run_assign


def arguments(flow: JsonataFlow, scope: Scope) -> Any:
    """What a Task calls its resource with, or what each Parallel branch starts with."""
    return flow.arguments(scope) if flow.arguments is not None else scope.input


def finish(
    assign: Assign | None, output: FieldValue | None, scope: Scope, default: Any
) -> tuple[Any, dict[str, Any] | None]:
    """Assign, then Output (or `default`). Returns (output, assigned)."""
    assigned = run_assign(assign, scope)
    return (output(scope) if output is not None else default), assigned
