"""Integration patterns in a Resource: `.waitForTaskToken` and `.sync`.

The engine handles the patterns: for a `.waitForTaskToken` Task it calls the plain
integration (the Resource without the suffix, `$$.Task.Token` in the parameters) and
parks the state until the token comes back. So a suffix that reaches an integration was
not handled, and fails clearly rather than being run as a plain request-response call.
"""

from __future__ import annotations

from scheduler.asl.errors import ErrorName, StatesError


def unsupported_pattern(resource: str, suffix: str) -> StatesError:
    """A `.waitForTaskToken` / `.sync` resource that reached a request-response integration."""
    return StatesError(
        ErrorName.RUNTIME,
        f"'{resource}': the {suffix} integration pattern is not supported by this "
        "integration (it only makes request-response calls)",
    )


def split_action(resource: str, action: str) -> str:
    """The action without a `.waitForTaskToken` or `.sync` suffix, which it refuses."""
    name, dot, suffix = action.partition(".")
    if dot:
        raise unsupported_pattern(resource, "." + suffix)
    return name
