"""Local Python handlers, registered by name, called as Lambda functions.

A handler has the AWS Lambda signature `handler(event, context)`. Names are what a Task's
Resource resolves to: a Lambda ARN's function name, or the Resource string itself.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from scheduler.asl.errors import SteplineError

Handler = Callable[[Any, Any], Any]


class HandlerLoadError(SteplineError):
    """A handler file, module or `module:function` reference that cannot be loaded."""


class HandlerRegistry:
    """Names to handler callables."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, name: str, handler: Handler) -> None:
        """Register `handler` under `name` (replacing any earlier one)."""
        if not callable(handler):
            raise HandlerLoadError(f"handler '{name}' is not callable")
        self._handlers[name] = handler

    def get(self, name: str) -> Handler | None:
        """The handler registered under `name`, or None."""
        return self._handlers.get(name)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._handlers)

    def load(self, spec: str) -> list[str]:
        """Register every top-level function of a file or module; returns their names.

        `spec` is a path to a `.py` file or an importable module name. A `module:function`
        spec registers that one function under its own name.
        """
        if ":" in spec and not Path(spec).exists():
            module_name, _, function = spec.partition(":")
            self.register(function, resolve_reference(spec))
            return [function]
        module = _import(spec)
        names = []
        for name, member in inspect.getmembers(module, inspect.isfunction):
            if member.__module__ == module.__name__ and not name.startswith("_"):
                self.register(name, member)
                names.append(name)
        return names

    def load_all(self, specs: Iterable[str]) -> None:
        """`load` each spec in turn."""
        for spec in specs:
            self.load(spec)

    def load_mapping(self, mapping: dict[str, str]) -> None:
        """Register `name -> "module:function"` pairs (the config file's `handlers`)."""
        for name, reference in mapping.items():
            self.register(name, resolve_reference(reference))


def resolve_reference(reference: str) -> Handler:
    """The function named by `module:function` (the module may be a `.py` path)."""
    module_name, sep, function = reference.rpartition(":")
    if not sep or not module_name or not function:
        raise HandlerLoadError(f"'{reference}' is not of the form module:function")
    module = _import(module_name)
    handler = getattr(module, function, None)
    if handler is None or not callable(handler):
        raise HandlerLoadError(f"'{module_name}' has no function '{function}'")
    return handler  # type: ignore[no-any-return]


def _import(spec: str) -> ModuleType:
    path = Path(spec)
    if path.suffix == ".py" or path.is_file():
        return _import_file(spec, path)
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        raise HandlerLoadError(f"cannot import handler module '{spec}': {exc}") from exc
    except Exception as exc:
        raise HandlerLoadError(
            f"handler module '{spec}' failed to load: {_describe(exc)}"
        ) from exc


def _import_file(spec: str, path: Path) -> ModuleType:
    """Load a `.py` file as a module; its folder joins `sys.path`, as Lambda's task root."""
    if not path.is_file():
        raise HandlerLoadError(f"handler file '{spec}' does not exist")
    module_name = f"stepline_handlers_{abs(hash(str(path.resolve())))}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise HandlerLoadError(f"cannot load handler file '{spec}'")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.append(folder)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise HandlerLoadError(f"handler file '{spec}' failed to load: {_describe(exc)}") from exc
    return module


def _describe(exc: BaseException) -> str:
    """`KeyError: 'x'` rather than a bare `'x'`: the error's type says what went wrong."""
    return f"{type(exc).__name__}: {exc}"
