"""Choice rules: compile once, evaluate against a scope. STUB: being written."""

from __future__ import annotations

from typing import Any

from scheduler.asl.scope import Scope


class ChoiceRule:
    """A compiled top-level choice rule (with `Next`) or nested rule (without)."""

    next: str | None

    def matches(self, scope: Scope) -> bool:
        raise NotImplementedError


def compile_choice_rule(rule: dict[str, Any]) -> ChoiceRule:
    """Compile one rule of a Choice state's `Choices` (assumes a validated definition)."""
    raise NotImplementedError
