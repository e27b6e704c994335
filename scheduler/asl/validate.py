"""The definition validator: every problem of an ASL definition at once, each located.

`validate_definition` takes parsed JSON; `validate_definition_text` takes the raw text and
also reports what parsing hides (bad JSON with its line and column, duplicated keys and
state names). Diagnostics carry AWS's ValidateStateMachineDefinition codes and a JSON
pointer (`/States/Foo/Next: state "Bar" does not exist`).

This module walks state machines (the top level, Parallel branches and Map processors):
their fields, state names, transitions, reachability and terminal states. Each state's own
fields are checked by `validate_states`, `validate_map` and `validate_choice`, with the
field tables in `validate_fields` and shared value checks in `validate_common`.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from typing import Any

from scheduler.asl.validate_choice import check_choice
from scheduler.asl.validate_common import (
    JSONATA,
    MAX_NESTING,
    QUERY_LANGUAGES,
    Code,
    Diagnostic,
    Report,
    Severity,
    StateCtx,
    check_int,
    check_string,
    child,
    expect_object,
    kind,
)
from scheduler.asl.validate_fields import (
    KNOWN_MACHINE_FIELDS,
    KNOWN_STATE_FIELDS,
    STATE_FIELDS,
    STATE_TYPES,
    TOP_LEVEL_FIELDS,
    check_fields,
)
from scheduler.asl.validate_jsonata import check_jsonata_expressions
from scheduler.asl.validate_map import check_map
from scheduler.asl.validate_states import STATE_CHECKS, check_common
from scheduler.asl.validate_variables import check_variable_references

__all__ = [
    "Code",
    "Diagnostic",
    "Severity",
    "validate_definition",
    "validate_definition_text",
]

MAX_STATE_NAME_LENGTH = 80
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FLOW_TYPES = frozenset({"Pass", "Task", "Wait", "Parallel", "Map"})
_TERMINAL_TYPES = ("Succeed", "Fail")
#: The type-specific check of each state type.
_CHECKS = {**STATE_CHECKS, "Choice": check_choice, "Map": check_map}


def validate_definition(
    definition: Any, *, unknown_fields_are_errors: bool = True
) -> list[Diagnostic]:
    """Every problem of `definition` (parsed JSON), in document order. Empty when valid.

    With `unknown_fields_are_errors=False`, fields and enum values Stepline does not know
    (perhaps newer than it) are WARNINGs instead of ERRORs.
    """
    report = Report(unknown_fields_are_errors)
    if definition is None or definition == "":
        report.error("/", "the definition is empty", Code.MISSING_DESCRIPTION)
    elif not isinstance(definition, dict):
        message = f"a state machine definition must be a JSON object, got {kind(definition)}"
        report.error("/", message)
    else:
        _Walk(report, definition).run()
        if not any(d.severity == Severity.ERROR for d in report.diagnostics):
            check_variable_references(report, definition)
    return report.diagnostics


def validate_definition_text(
    text: str, *, unknown_fields_are_errors: bool = True
) -> list[Diagnostic]:
    """Every problem of a definition given as JSON text, including duplicated keys.

    Text that is not JSON gives one INVALID_JSON_DESCRIPTION with its line and column.
    """
    if not isinstance(text, str) or not text.strip():
        return [Diagnostic(Code.MISSING_DESCRIPTION.value, "/", "the definition is empty")]
    duplicates = _DuplicateKeys()
    try:
        definition = json.loads(
            text, object_pairs_hook=duplicates.hook, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        message = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        return [Diagnostic(Code.INVALID_JSON_DESCRIPTION.value, "/", message)]
    except _NotJson as exc:
        return [Diagnostic(Code.INVALID_JSON_DESCRIPTION.value, "/", str(exc))]
    except RecursionError:
        message = "invalid JSON: the document is nested too deeply to parse"
        return [Diagnostic(Code.INVALID_JSON_DESCRIPTION.value, "/", message)]
    found = duplicates.report(definition)
    return found + validate_definition(
        definition, unknown_fields_are_errors=unknown_fields_are_errors
    )


class _Walk:
    """One validation run over a whole definition."""

    def __init__(self, report: Report, definition: dict[str, Any]) -> None:
        self.report = report
        self.definition = definition
        self.top_jsonata = definition.get("QueryLanguage") == JSONATA
        self.names: dict[str, list[str]] = {}
        for location, machine, _ in iter_machines(definition):
            states = machine.get("States")
            for name in states if isinstance(states, dict) else ():
                self.names.setdefault(name, []).append(child(child(location, "States"), name))
        self.seen: dict[str, str] = {}

    def run(self) -> None:
        """Validate the top-level machine and, through it, everything nested."""
        self.machine(self.definition, "/", self.top_jsonata, 0, TOP_LEVEL_FIELDS, "a state machine")

    def machine(
        self,
        node: Any,
        location: str,
        jsonata: bool,
        depth: int,
        allowed: frozenset[str],
        what: str,
    ) -> None:
        """Check one state machine: its fields, its states, and the graph they form."""
        if depth > MAX_NESTING:
            self.report.error(
                location,
                f"state machines are nested more than {MAX_NESTING} levels deep",
                Code.TOO_DEEPLY_NESTED,
            )
            return
        machine = expect_object(self.report, location, node)
        if machine is None:
            return
        check_fields(self.report, location, machine, allowed, what, known=KNOWN_MACHINE_FIELDS)
        if depth == 0:
            self._top_level(machine)
        if "Comment" in machine:
            check_string(self.report, child(location, "Comment"), machine["Comment"])
        start = self._start_at(machine, location)
        states = self._states_object(machine, location)
        if states is None:
            return
        edges: dict[str, list[str]] = {}
        for name, state in states.items():
            edges[name] = self._state(
                name, state, child(child(location, "States"), name), states, jsonata, depth
            )
        self._graph(location, states, start, edges)

    def _top_level(self, machine: dict[str, Any]) -> None:
        if "Version" in machine and machine["Version"] != "1.0":
            self.report.error("/Version", f'must be "1.0", got {json.dumps(machine["Version"])}')
        if "TimeoutSeconds" in machine:
            check_int(self.report, "/TimeoutSeconds", machine["TimeoutSeconds"], minimum=1)
        language = machine.get("QueryLanguage")
        if "QueryLanguage" in machine and language not in QUERY_LANGUAGES:
            self.report.error(
                "/QueryLanguage", f'must be "JSONPath" or "JSONata", got {json.dumps(language)}'
            )

    def _start_at(self, machine: dict[str, Any], location: str) -> str | None:
        if "StartAt" not in machine:
            self.report.error(location, 'a state machine must have a "StartAt" field')
            return None
        start = machine["StartAt"]
        at = child(location, "StartAt")
        if not check_string(self.report, at, start):
            return None
        states = machine.get("States")
        if isinstance(states, dict) and states and start not in states:
            self.report.error(at, self._missing_target(start), Code.MISSING_TRANSITION_TARGET)
            return None
        return str(start)

    def _states_object(self, machine: dict[str, Any], location: str) -> dict[str, Any] | None:
        if "States" not in machine:
            self.report.error(location, 'a state machine must have a "States" field')
            return None
        at = child(location, "States")
        states = expect_object(self.report, at, machine["States"])
        if states is not None and not states:
            self.report.error(at, "must hold at least one state")
            return None
        return states

    def _state(
        self,
        name: str,
        node: Any,
        location: str,
        siblings: dict[str, Any],
        inherited_jsonata: bool,
        depth: int,
    ) -> list[str]:
        """Check one state; return the names it may transition to."""
        self._state_name(name, location)
        state = expect_object(self.report, location, node)
        if state is None or not self._state_type(state, location):
            return []
        jsonata = self._query_language(state, location, inherited_jsonata)
        targets: list[str] = []

        def transition(at: str, target: Any) -> None:
            if not check_string(self.report, at, target):
                return
            targets.append(target)
            if target not in siblings:
                self.report.error(at, self._missing_target(target), Code.MISSING_TRANSITION_TARGET)

        def nested(sub: Any, at: str, allowed: frozenset[str], what: str) -> None:
            # States in a branch or item processor fall back to the state machine's
            # language, not to the enclosing state's.
            self.machine(sub, at, self.top_jsonata, depth + 1, allowed, what)

        kind_ = state["Type"]
        ctx = StateCtx(self.report, location, kind_, jsonata, transition, nested)
        check_fields(
            self.report,
            location,
            state,
            STATE_FIELDS[kind_],
            f"a {kind_} state",
            jsonata=jsonata,
            known=KNOWN_STATE_FIELDS,
        )
        self._flow(ctx, state)
        check_common(ctx, state)
        _CHECKS[kind_](ctx, state)
        if jsonata:
            check_jsonata_expressions(self.report, location, state)
        return targets

    def _state_name(self, name: str, location: str) -> None:
        if not name or len(name) > MAX_STATE_NAME_LENGTH:
            self.report.error(
                location,
                f"a state name must be 1 to {MAX_STATE_NAME_LENGTH} characters long, "
                f"got {len(name)}",
                Code.INVALID_STATE_NAME,
            )
        if _CONTROL.search(name):
            self.report.error(
                location,
                "a state name must not contain control characters",
                Code.INVALID_STATE_NAME,
            )
        if name in self.seen:
            self.report.error(
                location,
                f'state name "{name}" is already used at {self.seen[name]}: state names must be '
                "unique across the whole state machine, including Parallel branches and Map "
                "processors",
                Code.DUPLICATE_STATE_NAME,
            )
        else:
            self.seen[name] = location

    def _state_type(self, state: dict[str, Any], location: str) -> bool:
        if "Type" not in state:
            self.report.error(location, 'a state must have a "Type" field')
            return False
        if state["Type"] not in STATE_TYPES:
            self.report.error(
                child(location, "Type"),
                f"unknown state type {json.dumps(state['Type'])}: expected one of "
                + ", ".join(STATE_TYPES),
            )
            return False
        return True

    def _query_language(self, state: dict[str, Any], location: str, inherited: bool) -> bool:
        if "QueryLanguage" not in state:
            return inherited
        language = state["QueryLanguage"]
        at = child(location, "QueryLanguage")
        if language not in QUERY_LANGUAGES:
            self.report.error(at, f'must be "JSONPath" or "JSONata", got {json.dumps(language)}')
            return inherited
        if self.top_jsonata and language != JSONATA:
            self.report.error(
                at,
                "a state cannot use JSONPath when the state machine's QueryLanguage is JSONata",
            )
        return bool(language == JSONATA)

    def _flow(self, ctx: StateCtx, state: dict[str, Any]) -> None:
        """Next xor End, on the state types that transition."""
        if ctx.type not in _FLOW_TYPES:
            return
        end = state.get("End")
        if "End" in state and not isinstance(end, bool):
            self.report.error(child(ctx.location, "End"), f"must be true, got {kind(end)}")
        if "Next" in state:
            if end is True:
                self.report.error(ctx.location, 'a state cannot have both "Next" and "End": true')
            ctx.transition(child(ctx.location, "Next"), state["Next"])
        elif end is not True:
            self.report.error(
                ctx.location, f'a {ctx.type} state must have either "Next" or "End": true'
            )

    def _graph(
        self,
        location: str,
        states: dict[str, Any],
        start: str | None,
        edges: dict[str, list[str]],
    ) -> None:
        """Unreachable states, and machines with no way to end."""
        if start is not None:
            reached = {start}
            pending = [start]
            while pending:
                for target in edges.get(pending.pop(), []):
                    if target in states and target not in reached:
                        reached.add(target)
                        pending.append(target)
            for name in states:
                if name not in reached:
                    self.report.error(
                        child(child(location, "States"), name),
                        f'state "{name}" is not reachable from StartAt "{start}"',
                        Code.MISSING_TRANSITION_TARGET,
                    )
        if not any(_is_terminal(state) for state in states.values()):
            self.report.error(
                child(location, "States"),
                "no terminal state: at least one state must be a Succeed or Fail state "
                'or have "End": true',
                Code.MISSING_END_STATE,
            )

    def _missing_target(self, target: str) -> str:
        message = f'state "{target}" does not exist'
        elsewhere = self.names.get(target)
        if elsewhere:
            message += (
                f" in this scope (it is defined at {elsewhere[0]}): a transition cannot leave "
                "its own States block, whether the top level, a Parallel branch or a Map "
                "processor"
            )
        return message


def _is_terminal(state: Any) -> bool:
    return isinstance(state, dict) and (
        state.get("Type") in _TERMINAL_TYPES or state.get("End") is True
    )


def iter_machines(definition: Any) -> Iterator[tuple[str, dict[str, Any], int]]:
    """Every state machine object in `definition`: (location, machine, depth), outer first."""
    pending: deque[tuple[str, Any, int]] = deque([("/", definition, 0)])
    while pending:
        location, machine, depth = pending.popleft()
        if not isinstance(machine, dict) or depth > MAX_NESTING:
            continue
        yield location, machine, depth
        states = machine.get("States")
        for name, state in states.items() if isinstance(states, dict) else ():
            if not isinstance(state, dict):
                continue
            at = child(child(location, "States"), name)
            branches = state.get("Branches")
            for i, branch in enumerate(branches if isinstance(branches, list) else []):
                pending.append((child(child(at, "Branches"), i), branch, depth + 1))
            for key in ("ItemProcessor", "Iterator"):
                if key in state:
                    pending.append((child(at, key), state[key], depth + 1))


class _NotJson(ValueError):
    """A token Python's json module accepts but JSON does not (NaN, Infinity)."""


def _reject_constant(token: str) -> Any:
    raise _NotJson(f"invalid JSON: {token} is not a JSON number")


class _DuplicateKeys:
    """Remembers objects whose text repeated a key (the parsed dict keeps only the last)."""

    def __init__(self) -> None:
        self.found: dict[int, tuple[dict[str, Any], list[str]]] = {}

    def hook(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        """`object_pairs_hook` for json.loads."""
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            repeated: list[str] = []
            for key, _ in pairs:
                if key in seen and key not in repeated:
                    repeated.append(key)
                seen.add(key)
            self.found[id(result)] = (result, repeated)
        return result

    def report(self, definition: Any) -> list[Diagnostic]:
        """Diagnostics for every repeated key, located; repeated state names get their code."""
        if not self.found:
            return []
        states_objects = {
            id(machine["States"])
            for _, machine, _ in iter_machines(definition)
            if isinstance(machine.get("States"), dict)
        }
        diagnostics: list[Diagnostic] = []
        for location, node in _iter_objects(definition):
            for key in self.found.get(id(node), (None, []))[1]:
                at = child(location, key)
                if id(node) in states_objects:
                    message = f'state "{key}" is defined more than once'
                    diagnostics.append(Diagnostic(Code.DUPLICATE_STATE_NAME.value, at, message))
                else:
                    message = f'key "{key}" appears more than once in this object'
                    diagnostics.append(Diagnostic(Code.INVALID_JSON_DESCRIPTION.value, at, message))
        return diagnostics


def _iter_objects(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in `document` with its location, in document order."""
    stack: list[tuple[str, Any]] = [("/", document)]
    while stack:
        location, node = stack.pop()
        if isinstance(node, dict):
            yield location, node
            items: list[tuple[str | int, Any]] = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            continue
        stack.extend((child(location, key), value) for key, value in reversed(items))
