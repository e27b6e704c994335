"""The definition validator. STUB: being written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a definition, located, as AWS's ValidateStateMachineDefinition."""

    code: str
    location: str
    message: str
    severity: str = "ERROR"


def validate_definition(definition: Any, *, unknown_fields_are_errors: bool = True) -> list[Diagnostic]:
    """Every problem of `definition` (parsed JSON), in document order. Empty when valid."""
    return []
