"""What a JSONata expression reads, found by walking its parsed tree once.

Used by the validator (what AWS refuses, variables nobody assigns) and by `parse` (whether
a state needs the context object). The walk is conservative: where it does not know how a
construct evaluates, it assumes the most permissive reading, so a valid expression is never
refused.

- `variables`: the `$name`s it reads that it does not bind itself (`$x := ...`, lambda
  parameters), other than `$states` and the functions JSONata and AWS define.
- `states_fields`: which members of `$states` it reads (`input`, `context`, `result`,
  `errorOutput`), or `*` when it reads `$states` as a whole.
- `root_context`: it uses `$$`, which Step Functions does not support.
- `top_level_names`: field names read from the context item at the top level
  (`{% phone %}`): Step Functions runs expressions with no context item and refuses them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from jsonata.jsonata import Jsonata

from scheduler.asl.jsonata import Expression, is_expression
from scheduler.asl.jsonata_functions import AWS_FUNCTIONS

#: Functions a `$name` may refer to without any Assign: JSONata's own and AWS's.
FUNCTION_NAMES: Final = frozenset(Jsonata.static_frame.bindings) | frozenset(AWS_FUNCTIONS)
_SAME_CONTEXT: Final = {
    "binary": ("lhs", "rhs"),
    "apply": ("lhs", "rhs"),
    "bind": ("rhs",),
    "condition": ("condition", "then", "_else"),
    "lambda": ("body",),
}


@dataclass
class Findings:
    """What one expression reads (see the module docstring)."""

    variables: set[str] = field(default_factory=set)
    states_fields: set[str] = field(default_factory=set)
    root_context: bool = False
    top_level_names: list[str] = field(default_factory=list)

    @property
    def reads_context(self) -> bool:
        """Whether it may read `$states.context`."""
        return bool(self.states_fields & {"context", "*"})


def analyse(expression: Expression) -> Findings:
    """Walk `expression` and report what it reads."""
    walk = _Walk()
    walk.bound = _bound_names(expression.ast)
    walk.visit(expression.ast, top=True)
    walk.findings.variables -= walk.bound | FUNCTION_NAMES | {"states"}
    return walk.findings


def _children(node: Any) -> Iterator[Any]:
    """Every sub-node of `node`, in no particular order."""
    for key, value in vars(node).items():
        if key == "_outer_instance":
            continue
        yield from _nodes(value)


def _nodes(value: Any) -> Iterator[Any]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _nodes(item)
    elif hasattr(value, "type") and hasattr(value, "position"):
        yield value


def _bound_names(root: Any) -> set[str]:
    """Names the expression binds anywhere (`$x := ...`, `function($x)`, `#$i`, `@$v`)."""
    bound: set[str] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        kind = getattr(node, "type", None)
        if kind == "bind" and getattr(node.lhs, "type", None) == "variable":
            bound.add(str(node.lhs.value))
        elif kind == "lambda":
            bound.update(str(arg.value) for arg in node.arguments or ())
        for label in ("index", "focus"):
            value = getattr(node, label, None)
            if isinstance(value, str):
                bound.add(value)
        pending.extend(_children(node))
    return bound


class _Walk:
    def __init__(self) -> None:
        self.findings = Findings()
        self.bound: set[str] = set()

    def visit(self, node: Any, *, top: bool) -> None:
        kind = getattr(node, "type", None)
        if kind == "path":
            self._path(node, top)
        elif kind == "variable":
            self._variable(node)
        elif kind in ("function", "partial"):
            for argument in node.arguments or ():
                self.visit(argument, top=top)
        elif kind in _SAME_CONTEXT:
            for label in _SAME_CONTEXT[kind]:
                child = getattr(node, label, None)
                if child is not None:
                    self.visit(child, top=top)
        elif kind in ("block", "unary"):
            for child in _children(node):
                self.visit(child, top=top)
        elif kind == "name" and top:
            self.findings.top_level_names.append(str(node.value))
            self._relative(node)
        else:
            self._relative(node)

    def _relative(self, node: Any) -> None:
        """Sub-nodes that evaluate against something other than the top-level context."""
        for child in _children(node):
            self.visit(child, top=False)

    def _variable(self, node: Any) -> None:
        name = str(node.value)
        if name == "$":
            self.findings.root_context = True
        elif name == "states":
            self.findings.states_fields.add("*")
        elif name:
            self.findings.variables.add(name)
        for child in _nodes(getattr(node, "predicate", None)):
            self.visit(child, top=False)

    def _path(self, node: Any, top: bool) -> None:
        steps = list(node.steps or ())
        if not steps:
            return
        first = steps[0]
        if getattr(first, "type", None) == "variable" and first.value == "states":
            second = steps[1] if len(steps) > 1 else None
            if second is not None and getattr(second, "type", None) == "name":
                self.findings.states_fields.add(str(second.value))
            else:
                self.findings.states_fields.add("*")
            self._relative(first)
        else:
            self.visit(first, top=top)
        for step in steps[1:]:
            self.visit(step, top=False)
        for child in _nodes(getattr(node, "group", None)):
            self.visit(child, top=False)


def expressions_in(value: Any, location: str) -> Iterator[tuple[str, str]]:
    """Every `{% %}` string in a JSON value: (its location, the string)."""
    pending: list[tuple[str, Any]] = [(location, value)]
    while pending:
        where, node = pending.pop()
        if is_expression(node):
            yield where, node
        elif isinstance(node, dict):
            pending.extend((f"{where}/{key}", item) for key, item in node.items())
        elif isinstance(node, list):
            pending.extend((f"{where}[{i}]", item) for i, item in enumerate(node))
