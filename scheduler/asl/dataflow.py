"""JSONPath input and output processing: InputPath, Parameters, ResultSelector,
ResultPath and OutputPath, in the order the ASL specification applies them."""

from __future__ import annotations

from typing import Any

from scheduler.asl.errors import ErrorName, StateRuntimeError, StatesError
from scheduler.asl.model import DataFlow
from scheduler.asl.paths import Path, PathNotFound, ReferenceConflict, set_reference
from scheduler.asl.payload import to_json
from scheduler.asl.scope import Scope
from scheduler.asl.variables import Assign, run_assign


def _is_whole_input(path: Path | None) -> bool:
    """Whether a path is plain `$`: it selects its document unchanged."""
    return path is not None and path.keys == () and path.root == "$"


def _select(path: Path | None, scope: Scope) -> Any:
    """Apply InputPath/OutputPath: None (null) gives `{}`; `$` gives the input itself."""
    if path is None:
        return {}
    if _is_whole_input(path):
        return scope.input
    try:
        return scope.resolve(path)
    except PathNotFound as missing:
        raise StateRuntimeError(f"Invalid path '{path.text}' : {missing.reason}") from None


def effective_input(flow: DataFlow, scope: Scope) -> tuple[Any, Scope]:
    """InputPath then Parameters: what the state works on, and the scope that reads it."""
    selected = _select(flow.input_path, scope)
    inner = scope.with_input(selected)
    if flow.parameters is None:
        return selected, inner
    return flow.parameters(inner), inner


def select_result(flow: DataFlow, result: Any, scope: Scope) -> Any:
    """ResultSelector: reshape a Task/Parallel/Map result before ResultPath."""
    if flow.result_selector is None:
        return result
    return flow.result_selector(scope.with_input(result))


def place_result(result_path: Path | None, raw_input: Any, result: Any) -> Any:
    """ResultPath: put `result` into the state's raw input (None keeps the input)."""
    if result_path is None:
        return raw_input
    if not result_path.keys:
        return result
    try:
        return set_reference(raw_input, result_path, result)
    except ReferenceConflict:
        raise StatesError(
            ErrorName.RESULT_PATH_MATCH_FAILURE,
            f'Unable to apply ResultPath "{result_path.text}" to input "{to_json(raw_input)}"',
        ) from None


def output(flow: DataFlow, raw_input: Any, result: Any, scope: Scope) -> Any:
    """ResultPath then OutputPath: what the state passes on."""
    combined = place_result(flow.result_path, raw_input, result)
    if _is_whole_input(flow.output_path):
        return combined  # what `_select` returns for `$`, without a scope to read it
    return _select(flow.output_path, scope.with_input(combined))


def output_of_input(flow: DataFlow, selected: Any, scope: Scope) -> Any:
    """OutputPath over the (InputPath-selected) input, for states without a result."""
    if _is_whole_input(flow.output_path):
        return selected  # what `_select` returns for `$`, without a scope to read it
    return _select(flow.output_path, scope.with_input(selected))


def leave_with_result(
    flow: DataFlow, assign: Assign | None, scope: Scope, result: Any
) -> tuple[Any, dict[str, Any] | None]:
    """After a Task, Parallel or Map succeeded: ResultSelector, then Assign (reading the
    selected result as `$`), then ResultPath and OutputPath. Returns (output, assigned)."""
    selected = select_result(flow, result, scope)
    assigned = run_assign(assign, scope.with_input(selected))
    return output(flow, scope.input, selected, scope), assigned
