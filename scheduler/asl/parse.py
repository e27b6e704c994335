"""Build the typed model from definition JSON: validate, then compile every field once.

Query languages: a state uses its own `QueryLanguage`, else the state machine's (the top
level's, JSONPath by default). States inside a Parallel branch or a Map's item processor
fall back to the *state machine's* language, not to the enclosing state's: the enclosing
state's own fields (Items, MaxConcurrency...) use its language, its children theirs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scheduler.asl.choice import compile_choice_rule, compile_jsonata_rule
from scheduler.asl.errors import SteplineError
from scheduler.asl.jsonata import compile_expression, expression_text
from scheduler.asl.jsonata_analysis import analyse, expressions_in
from scheduler.asl.jsonata_fields import FieldValue, compile_value
from scheduler.asl.model import (
    AnyState,
    Catcher,
    ChoiceState,
    DataFlow,
    FailState,
    Jitter,
    JsonataFlow,
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
from scheduler.asl.parse_fields import (
    IDENTITY,
    map_items,
    map_limits,
    optional_path,
    path_field,
    result_path,
    scalar,
    task_timeouts,
)
from scheduler.asl.parse_map import map_io
from scheduler.asl.payload import Evaluator, compile_dynamic_value, compile_template
from scheduler.asl.validate import Diagnostic, validate_definition, validate_definition_text
from scheduler.asl.variables import compile_assign

JSONATA = "JSONata"
_NESTED_KEYS = frozenset({"Branches", "ItemProcessor", "Iterator"})


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


@dataclass(frozen=True)
class _Lang:
    """The language a state is written in, and the machine's (for its nested states)."""

    jsonata: bool
    machine: str


def build_machine(definition: dict[str, Any], query_language: str = "JSONPath") -> StateMachine:
    """Compile a validated (sub-)machine; `query_language` is the machine's language."""
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


def _template(body: dict[str, Any], key: str) -> Evaluator | None:
    return compile_template(body[key]) if key in body else None


def _flow(body: dict[str, Any], lang: _Lang, parameters_key: str = "Parameters") -> DataFlow:
    if lang.jsonata:  # JSONata states use `jsonata` instead; this flow passes data through
        return DataFlow(IDENTITY, IDENTITY, IDENTITY)
    return DataFlow(
        input_path=optional_path(body, "InputPath"),
        output_path=optional_path(body, "OutputPath"),
        result_path=result_path(body),
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


def _catchers(body: dict[str, Any], lang: _Lang) -> tuple[Catcher, ...]:
    catchers = []
    for i, catcher in enumerate(body.get("Catch", ())):
        at = f"Catch[{i}]"
        assign = catcher.get("Assign")
        output = catcher.get("Output")
        catchers.append(
            Catcher(
                error_equals=tuple(catcher["ErrorEquals"]),
                next=catcher["Next"],
                result_path=result_path(catcher) if not lang.jsonata else None,
                assign=None
                if assign is None
                else compile_assign(assign, jsonata=lang.jsonata, location=f"{at}/Assign"),
                output=None
                if output is None or not lang.jsonata
                else compile_value(output, f"{at}/Output"),
                jsonata=lang.jsonata,
            )
        )
    return tuple(catchers)


def _own_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The state's fields without the sub-machines it holds."""
    return {key: value for key, value in body.items() if key not in _NESTED_KEYS}


def _uses_context(body: dict[str, Any], lang: _Lang) -> bool:
    own = _own_fields(body)
    if not lang.jsonata:
        return "$$" in json.dumps(own)
    return any(
        analyse(compile_expression(expression_text(text))).reads_context
        for _, text in expressions_in(own, "")
    )


def _common(name: str, body: dict[str, Any], flow: DataFlow, lang: _Lang) -> dict[str, Any]:
    jsonata = None
    if lang.jsonata:
        arguments = compile_value(body["Arguments"], "Arguments") if "Arguments" in body else None
        output = compile_value(body["Output"], "Output") if "Output" in body else None
        jsonata = JsonataFlow(arguments, output)
    assign = body.get("Assign")
    return {
        "name": name,
        "type": StateType(body["Type"]),
        "next": body.get("Next"),
        "end": bool(body.get("End", False)),
        "flow": flow,
        "raw": body,
        "jsonata": jsonata,
        "assign": None if assign is None else compile_assign(assign, jsonata=lang.jsonata),
        "uses_context": _uses_context(body, lang),
    }


def _pass(name: str, body: dict[str, Any], lang: _Lang) -> AnyState:
    return PassState(
        **_common(name, body, _flow(body, lang), lang),
        result=body.get("Result"),
        has_result="Result" in body,
    )


def _task(name: str, body: dict[str, Any], lang: _Lang) -> AnyState:
    return TaskState(
        **_common(name, body, _flow(body, lang), lang),
        resource=body["Resource"],
        **task_timeouts(body, lang.jsonata),
        retry=_retriers(body),
        catch=_catchers(body, lang),
    )


def _choice(name: str, body: dict[str, Any], lang: _Lang) -> AnyState:
    rules = body.get("Choices", ())
    return ChoiceState(
        **_common(name, body, _flow(body, lang), lang),
        choices=tuple(
            compile_jsonata_rule(rule, i) if lang.jsonata else compile_choice_rule(rule)
            for i, rule in enumerate(rules)
        ),
        default=body.get("Default"),
    )


def _wait(name: str, body: dict[str, Any], lang: _Lang) -> AnyState:
    seconds, seconds_expr = scalar(body, "Seconds", lang.jsonata)
    timestamp, timestamp_expr = scalar(body, "Timestamp", lang.jsonata)
    return WaitState(
        **_common(name, body, _flow(body, lang), lang),
        seconds=seconds,
        timestamp=timestamp,
        seconds_path=path_field(body, "SecondsPath"),
        timestamp_path=path_field(body, "TimestampPath"),
        seconds_expr=seconds_expr,
        timestamp_expr=timestamp_expr,
    )


def _succeed(name: str, body: dict[str, Any], lang: _Lang) -> AnyState:
    return SucceedState(**_common(name, body, _flow(body, lang), lang))


def _fail(name: str, body: dict[str, Any], lang: _Lang) -> AnyState:
    error, error_expr = scalar(body, "Error", lang.jsonata)
    cause, cause_expr = scalar(body, "Cause", lang.jsonata)
    return FailState(
        **_common(name, body, _flow(body, lang), lang),
        error=error,
        cause=cause,
        error_path=error_expr or _dynamic(body, "ErrorPath"),
        cause_path=cause_expr or _dynamic(body, "CausePath"),
    )


def _dynamic(body: dict[str, Any], key: str) -> Evaluator | None:
    return compile_dynamic_value(key, body[key]) if key in body else None


def _parallel(name: str, body: dict[str, Any], lang: _Lang) -> AnyState:
    return ParallelState(
        **_common(name, body, _flow(body, lang), lang),
        branches=tuple(build_machine(branch, lang.machine) for branch in body["Branches"]),
        retry=_retriers(body),
        catch=_catchers(body, lang),
    )


def _item_selector(body: dict[str, Any], lang: _Lang) -> FieldValue | None:
    key = "ItemSelector" if "ItemSelector" in body else "Parameters"
    if key not in body:
        return None
    if lang.jsonata:
        return compile_value(body[key], key)
    return compile_template(body[key])


def _map(name: str, body: dict[str, Any], lang: _Lang) -> AnyState:
    processor = body.get("ItemProcessor") or body.get("Iterator") or {}
    config = processor.get("ProcessorConfig", {})
    flow = _flow(body, lang, parameters_key="__none__")
    return MapState(
        **_common(name, body, flow, lang),
        processor=build_machine(processor, lang.machine),
        **map_items(body, lang.jsonata),
        item_selector=_item_selector(body, lang),
        **map_limits(body, lang.jsonata),
        distributed=config.get("Mode") == "DISTRIBUTED",
        label=body.get("Label"),
        **map_io(body, lang.jsonata),
        retry=_retriers(body),
        catch=_catchers(body, lang),
    )


_BUILDERS: dict[str, Callable[[str, dict[str, Any], _Lang], AnyState]] = {
    "Pass": _pass,
    "Task": _task,
    "Choice": _choice,
    "Wait": _wait,
    "Succeed": _succeed,
    "Fail": _fail,
    "Parallel": _parallel,
    "Map": _map,
}


def _build_state(name: str, body: dict[str, Any], machine_language: str) -> AnyState:
    language = body.get("QueryLanguage", machine_language)
    return _BUILDERS[body["Type"]](name, body, _Lang(language == JSONATA, machine_language))
