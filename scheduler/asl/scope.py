"""What an expression can read while a state runs: the input, the context object, variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scheduler.asl.paths import Path, PathNotFound, Root

EMPTY_VARIABLES: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Scope:
    """The documents a path may name: `$` (input), `$$` (context) and `$name` (variables)."""

    input: Any
    context: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=lambda: EMPTY_VARIABLES)

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
        """The same scope reading a different `$`."""
        return Scope(value, self.context, self.variables)
