"""TestState's `inspectionData` (inspectionLevel DEBUG and TRACE): the data at each stage.

JSONPath states: afterInputPath, afterParameters, result, afterResultSelector,
afterResultPath; Map states also afterItemsPath, afterItemSelector, maxConcurrency and
their tolerated failures. JSONata states: afterArguments and result. Every state: the
raw input, the variables after the state, and for a handled error which Retry or Catch
handled it (errorDetails). Values are JSON text, as AWS returns them. Choice, Wait,
Succeed and Fail show their input only, as AWS shows them.
"""

from __future__ import annotations

import json
from typing import Any

from scheduler.asl.dataflow import effective_input, place_result, select_result
from scheduler.asl.errors import StatesError
from scheduler.asl.fanout import map_items
from scheduler.asl.model import AnyState, MapState, PassState
from scheduler.asl.outcome import FanOut, InvokeTask, Outcome
from scheduler.asl.scope import Scope

_WITH_STAGES = ("Pass", "Task", "Parallel", "Map")


def text(value: Any) -> str:
    """JSON text, compact, as TestState returns payloads."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Inspection:
    """Collects the inspection data while the state runs."""

    def __init__(self, state: AnyState, scope: Scope) -> None:
        self.state = state
        self.scope = scope
        self.variables = dict(scope.variables)
        self._data: dict[str, Any] = {"input": text(scope.input)}

    def entered(self, outcome: Outcome) -> None:
        """The stages before the work: input filters, Arguments, the Map's items."""
        if self.state.type not in _WITH_STAGES:
            return
        try:
            if self.state.jsonata is not None:
                self._jsonata_arguments(outcome)
            else:
                self._input_stages(outcome)
        except StatesError:
            pass  # the stage failed: the error says why, the data stops here

    def _jsonata_arguments(self, outcome: Outcome) -> None:
        if isinstance(outcome, InvokeTask):
            self._data["afterArguments"] = text(outcome.payload)
        elif isinstance(outcome, FanOut) and not isinstance(self.state, MapState):
            self._data["afterArguments"] = text(outcome.inputs[0] if outcome.inputs else None)

    def _input_stages(self, outcome: Outcome) -> None:
        state, scope = self.state, self.scope
        selected, inner = effective_input(state.flow, scope)
        self._data["afterInputPath"] = text(inner.input)
        if isinstance(state, MapState):
            self._map_stages(state, outcome)
            return
        self._data["afterParameters"] = text(selected)
        if isinstance(state, PassState):
            result = state.result if state.has_result else selected
            self._data["afterResultSelector"] = text(result)
            combined = place_result(state.flow.result_path, scope.input, result)
            self._data["afterResultPath"] = text(combined)

    def _map_stages(self, state: MapState, outcome: Outcome) -> None:
        items, _ = map_items(state, self.scope)
        self._data["afterItemsPath"] = text(items)
        if not isinstance(outcome, FanOut):
            return
        if state.item_selector is not None:
            self._data["afterItemSelector"] = text(outcome.inputs)
        self._data["maxConcurrency"] = outcome.max_concurrency
        if outcome.tolerated_failure_count is not None:
            self._data["toleratedFailureCount"] = outcome.tolerated_failure_count
        if outcome.tolerated_failure_percentage is not None:
            self._data["toleratedFailurePercentage"] = outcome.tolerated_failure_percentage

    def result(self, result: Any) -> None:
        """The work's raw result, then ResultSelector and ResultPath (JSONPath)."""
        self._data["result"] = text(result)
        if self.state.jsonata is not None:
            return
        try:
            chosen = select_result(self.state.flow, result, self.scope)
            self._data["afterResultSelector"] = text(chosen)
            combined = place_result(self.state.flow.result_path, self.scope.input, chosen)
            self._data["afterResultPath"] = text(combined)
        except StatesError:
            pass

    def http(self, shown: dict[str, Any]) -> None:
        """An HTTP Task's raw request and response (TRACE)."""
        self._data.update(shown)

    def left(self, output: Any, assigned: dict[str, Any] | None) -> None:
        """The state succeeded; what its Assign set joins the variables."""
        self.variables.update(assigned or {})

    def caught(self, index: int, output: Any, assigned: dict[str, Any] | None) -> None:
        """Catcher `index` handled the error."""
        self._data["errorDetails"] = {"catchIndex": index}
        self.variables.update(assigned or {})

    def retried(self, index: int, delay: float) -> None:
        """Retrier `index` would run the state again after `delay` seconds."""
        self._data["errorDetails"] = {
            "retryIndex": index,
            "retryBackoffIntervalSeconds": int(delay),
        }

    def data(self) -> dict[str, Any]:
        """The inspectionData member."""
        data = dict(self._data)
        if self.variables:
            data["variables"] = text(self.variables)
        return data
