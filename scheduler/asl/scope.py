"""What an expression can read while a state runs: the input, the context object, variables.

JSONPath reads `$` (the input, or whatever a step of the data flow made it), `$$` (the
context object) and `$name` (a variable). JSONata reads the same documents through
`$states` (`input`, `context`, and in the fields that may see them `result` and
`errorOutput`) and `$name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from scheduler.asl.paths import Path, PathNotFound, Root

EMPTY_VARIABLES: Mapping[str, Any] = {}


class _Absent:
    """Marks `$states.result` / `$states.errorOutput` as not available in a field."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


@dataclass(slots=True)
class Scope:
    """The documents a path or an expression may name.

    `input` is `$` (JSONPath) or `$states.input` (JSONata); `result` and `error_output` are
    `$states.result` and `$states.errorOutput`, ABSENT where a field cannot see them.

    Never changed once built; not `frozen=True` only for speed: one is built per state entered,
    and a frozen dataclass's `__init__` (`object.__setattr__` per field) costs 3-5x more.
    """

    input: Any
    context: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=lambda: EMPTY_VARIABLES)
    result: Any = ABSENT
    error_output: Any = ABSENT

    def resolve(self, path: Path) -> Any:
        """Evaluate `path` against the document its root names. Raises PathNotFound."""
        if path.root == Root.INPUT:
            return path.find(self.input)
        if path.root == Root.CONTEXT:
            return path.find(self.context)
        name = path.root[1:]
        if name not in self.variables:
            raise PathNotFound(path.text, path.text)
        return path.find(self.variables[name])

    def with_input(self, value: Any) -> Scope:
        """The same scope reading a different `$`, without `result` and `error_output`."""
        if value is self.input and self.result is ABSENT and self.error_output is ABSENT:
            return self  # an equal scope: this one (scopes are never changed)
        return Scope(value, self.context, self.variables)

    def with_result(self, result: Any) -> Scope:
        """The scope of Output and Assign after a task, branches or iterations succeeded."""
        return replace(self, result=result)

    def with_error_output(self, error_output: Any) -> Scope:
        """The scope of a catcher's Output and Assign."""
        return replace(self, error_output=error_output)

    def with_context(self, context: Mapping[str, Any]) -> Scope:
        """The same scope with another context object (a Map item's `Map.Item`)."""
        return replace(self, context=context)
