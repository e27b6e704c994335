"""The handler the cluster benchmark's Task states call, loaded by the worker processes
through their config file's `handler_paths` (every top-level function here is a handler,
so this file holds nothing else)."""

from typing import Any


def noop(event: Any, context: Any) -> Any:
    """A Lambda-style handler that returns its event unchanged."""
    return event
