"""Build the typed model from definition JSON: validate, then compile every field once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scheduler.asl.choice import compile_choice_rule
from scheduler.asl.errors import SteplineError
from scheduler.asl.model import (
    AnyState,
    Catcher,
    ChoiceState,
    DataFlow,
    FailState,
    Jitter,
    MapState,
    ParallelState,
    PassState,
    Retrier,
    StateMachine,
    StateType,
    SucceedState,
    TaskState,
    WaitState,
)
from scheduler.asl.paths import Path, compile_path, compile_reference_path
from scheduler.asl.payload import Evaluator, compile_dynamic_value, compile_template
from scheduler.asl.validate import Diagnostic, validate_definition, validate_definition_text

_IDENTITY = compile_reference_path("$")


class DefinitionError(SteplineError):
    """A definition that does not validate; `diagnostics` lists every problem."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        lines = "; ".join(f"{d.location}: {d.message}" for d in diagnostics)
        super().__init__(f"invalid state machine definition: {lines}")
        self.diagnostics = diagnostics


def load_definition(
    source: str | dict[str, Any], *, unknown_fields_are_errors: bool = True
) -> StateMachine:
    """Validate and compile a definition given as JSON text or parsed JSON."""
    if isinstance(source, str):
        problems = validate_definition_text(
            source, unknown_fields_are_errors=unknown_fields_are_errors
        )
        if not [d for d in problems if d.severity == "ERROR"]:
            source = json.loads(source)
    else:
        problems = validate_definition(source, unknown_fields_are_errors=unknown_fields_are_errors)
    errors = [d for d in problems if d.severity == "ERROR"]
    if errors:
        raise DefinitionError(errors)
    assert isinstance(source, dict)
    return build_machine(source)


def build_machine(definition: dict[str, Any], query_language: str = "JSONPath") -> StateMachine:
    """Compile a validated (sub-)machine."""
    language = definition.get("QueryLanguage", query_language)
    states = {
        name: _build_state(name, body, language) for name, body in definition["States"].items()
    }
    return StateMachine(
        start_at=definition["StartAt"],
        states=states,
        timeout_seconds=definition.get("TimeoutSeconds"),
        comment=definition.get("Comment"),
        query_language=language,
    )


def _optional_path(body: dict[str, Any], key: str) -> Path | None:
    """An InputPath/OutputPath-like field: absent means `$`, null means None."""
    if key not in body:
        return _IDENTITY
    value = body[key]
    return None if value is None else compile_path(value)


def _result_path(body: dict[str, Any]) -> Path | None:
    if "ResultPath" not in body:
        return _IDENTITY
    value = body["ResultPath"]
    return None if value is None else compile_reference_path(value)


def _template(body: dict[str, Any], key: str) -> Evaluator | None:
    return compile_template(body[key]) if key in body else None


def _path(body: dict[str, Any], key: str) -> Path | None:
    return compile_path(body[key]) if key in body else None


def _flow(body: dict[str, Any], parameters_key: str = "Parameters") -> DataFlow:
    return DataFlow(
        input_path=_optional_path(body, "InputPath"),
        output_path=_optional_path(body, "OutputPath"),
        result_path=_result_path(body),
        parameters=_template(body, parameters_key),
        result_selector=_template(body, "ResultSelector"),
    )


def _retriers(body: dict[str, Any]) -> tuple[Retrier, ...]:
    return tuple(
        Retrier(
            error_equals=tuple(r["ErrorEquals"]),
            interval_seconds=r.get("IntervalSeconds", 1),
            max_attempts=r.get("MaxAttempts", 3),
            backoff_rate=r.get("BackoffRate", 2.0),
            max_delay_seconds=r.get("MaxDelaySeconds"),
            jitter=Jitter(r.get("JitterStrategy", "NONE")),
        )
        for r in body.get("Retry", ())
    )


def _catchers(body: dict[str, Any]) -> tuple[Catcher, ...]:
    return tuple(
        Catcher(
            error_equals=tuple(c["ErrorEquals"]),
            next=c["Next"],
            result_path=_result_path(c),
        )
        for c in body.get("Catch", ())
    )


def _common(name: str, body: dict[str, Any], flow: DataFlow) -> dict[str, Any]:
    return {
        "name": name,
        "type": StateType(body["Type"]),
        "next": body.get("Next"),
        "end": bool(body.get("End", False)),
        "flow": flow,
        "raw": body,
    }


def _pass(name: str, body: dict[str, Any], language: str) -> AnyState:
    return PassState(
        **_common(name, body, _flow(body)), result=body.get("Result"), has_result="Result" in body
    )


def _task(name: str, body: dict[str, Any], language: str) -> AnyState:
    return TaskState(
        **_common(name, body, _flow(body)),
        resource=body["Resource"],
        timeout_seconds=body.get("TimeoutSeconds"),
        timeout_seconds_path=_path(body, "TimeoutSecondsPath"),
        heartbeat_seconds=body.get("HeartbeatSeconds"),
        heartbeat_seconds_path=_path(body, "HeartbeatSecondsPath"),
        retry=_retriers(body),
        catch=_catchers(body),
    )


def _choice(name: str, body: dict[str, Any], language: str) -> AnyState:
    return ChoiceState(
        **_common(name, body, _flow(body)),
        choices=tuple(compile_choice_rule(rule) for rule in body.get("Choices", ())),
        default=body.get("Default"),
    )


def _wait(name: str, body: dict[str, Any], language: str) -> AnyState:
    return WaitState(
        **_common(name, body, _flow(body)),
        seconds=body.get("Seconds"),
        timestamp=body.get("Timestamp"),
        seconds_path=_path(body, "SecondsPath"),
        timestamp_path=_path(body, "TimestampPath"),
    )


def _succeed(name: str, body: dict[str, Any], language: str) -> AnyState:
    return SucceedState(**_common(name, body, _flow(body)))


def _fail(name: str, body: dict[str, Any], language: str) -> AnyState:
    return FailState(
        **_common(name, body, _flow(body)),
        error=body.get("Error"),
        cause=body.get("Cause"),
        error_path=_dynamic(body, "ErrorPath"),
        cause_path=_dynamic(body, "CausePath"),
    )


def _dynamic(body: dict[str, Any], key: str) -> Evaluator | None:
    return compile_dynamic_value(key, body[key]) if key in body else None


def _parallel(name: str, body: dict[str, Any], language: str) -> AnyState:
    return ParallelState(
        **_common(name, body, _flow(body)),
        branches=tuple(build_machine(branch, language) for branch in body["Branches"]),
        retry=_retriers(body),
        catch=_catchers(body),
    )


def _map(name: str, body: dict[str, Any], language: str) -> AnyState:
    processor = body.get("ItemProcessor") or body.get("Iterator") or {}
    config = processor.get("ProcessorConfig", {})
    selector_key = "ItemSelector" if "ItemSelector" in body else "Parameters"
    flow = _flow(body, parameters_key="__none__")
    return MapState(
        **_common(name, body, flow),
        processor=build_machine(processor, language),
        items_path=_optional_path(body, "ItemsPath"),
        item_selector=_template(body, selector_key),
        max_concurrency=body.get("MaxConcurrency", 0),
        max_concurrency_path=_path(body, "MaxConcurrencyPath"),
        tolerated_failure_count=body.get("ToleratedFailureCount"),
        tolerated_failure_count_path=_path(body, "ToleratedFailureCountPath"),
        tolerated_failure_percentage=body.get("ToleratedFailurePercentage"),
        tolerated_failure_percentage_path=_path(body, "ToleratedFailurePercentagePath"),
        distributed=config.get("Mode") == "DISTRIBUTED",
        label=body.get("Label"),
        retry=_retriers(body),
        catch=_catchers(body),
    )


_BUILDERS: dict[str, Callable[[str, dict[str, Any], str], AnyState]] = {
    "Pass": _pass,
    "Task": _task,
    "Choice": _choice,
    "Wait": _wait,
    "Succeed": _succeed,
    "Fail": _fail,
    "Parallel": _parallel,
    "Map": _map,
}


def _build_state(name: str, body: dict[str, Any], language: str) -> AnyState:
    return _BUILDERS[body["Type"]](name, body, body.get("QueryLanguage", language))
