"""Intrinsic functions (`States.Format(...)`, `States.MathAdd(...)`, ...). STUB: being written."""

from __future__ import annotations

from typing import Any

from scheduler.asl.errors import SteplineError
from scheduler.asl.scope import Scope


class IntrinsicSyntaxError(SteplineError):
    """An intrinsic function call that does not parse, or names no known function."""


class Intrinsic:
    """A compiled intrinsic function call."""

    def __init__(self, text: str) -> None:
        self.text = text

    def evaluate(self, scope: Scope) -> Any:
        """Run the call. Raises StatesError (States.IntrinsicFailure, States.Runtime)."""
        raise NotImplementedError


def is_intrinsic(text: str) -> bool:
    """True when a `.$` value is an intrinsic call rather than a path."""
    return text.lstrip().startswith("States.")


def compile_intrinsic(text: str) -> Intrinsic:
    """Parse an intrinsic call once. Raises IntrinsicSyntaxError."""
    raise NotImplementedError
