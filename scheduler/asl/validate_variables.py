"""Variable references that no state can have assigned: warnings, on valid definitions.

A state sees the variables assigned anywhere in its own States block and in the blocks
around it (a Parallel branch or Map iteration reads its parent's variables); it does not see
what a branch or an iteration assigns, nor, inside a Distributed Map, anything assigned
outside it (AWS: "Distributed Map states can't reference variables in outer scopes").

AWS accepts a definition that reads a variable nobody assigns: the read fails at run time
(JSONPath: the path is not found; JSONata: the expression returns nothing), unless the
expression only tests it, as in `$exists($retries)`. So these are WARNINGs
(UNASSIGNED_VARIABLE), located at the field that reads the variable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from scheduler.asl.jsonata import compile_expression, expression_text
from scheduler.asl.jsonata_analysis import analyse, expressions_in
from scheduler.asl.validate_common import JSONATA, Code, Report, child
from scheduler.asl.validate_jsonata import LITERAL_FIELDS, pointer

_QUOTED: Final = re.compile(r"'(?:\\.|[^'\\])*'")
_VARIABLE: Final = re.compile(r"(?<![\w$])\$([A-Za-z_][A-Za-z0-9_]*)")
_NESTED: Final = ("Branches", "ItemProcessor", "Iterator")


def jsonpath_variables(text: str) -> set[str]:
    """The variables a JSONPath path or intrinsic call reads (`$x.a`, `States.Format('{}',
    $x)`); quoted literals are skipped."""
    return set(_VARIABLE.findall(_QUOTED.sub("''", text)))


def assigned_names(state: dict[str, Any]) -> set[str]:
    """Every variable a state may assign: its Assign, its Choice rules', its catchers'."""
    blocks = [state.get("Assign")]
    blocks += [rule.get("Assign") for rule in state.get("Choices", ())]
    blocks += [catcher.get("Assign") for catcher in state.get("Catch", ())]
    return {
        key[:-2] if key.endswith(".$") else key
        for block in blocks
        if isinstance(block, dict)
        for key in block
    }


def _jsonpath_reads(value: Any, where: str, key: str = "") -> Iterator[tuple[str, str]]:
    """(relative location, variable) for every path-valued member of a JSONPath state."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name in LITERAL_FIELDS or name == "Result" or name in _NESTED:
                continue
            yield from _jsonpath_reads(item, f"{where}/{name}" if where else name, name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _jsonpath_reads(item, f"{where}[{i}]", key)
    elif isinstance(value, str) and _is_path_key(key):
        for name in sorted(jsonpath_variables(value)):
            yield where, name


def _is_path_key(key: str) -> bool:
    return key.endswith(".$") or key == "Variable" or (key.endswith("Path") and key != "ResultPath")


def _jsonata_reads(state: dict[str, Any]) -> Iterator[tuple[str, str]]:
    own = {k: v for k, v in state.items() if k not in LITERAL_FIELDS}
    for where, text in expressions_in(own, ""):
        findings = analyse(compile_expression(expression_text(text)))
        for name in sorted(findings.variables):
            yield where.lstrip("/"), name


def _reads(state: dict[str, Any], jsonata: bool) -> Iterator[tuple[str, str]]:
    return _jsonata_reads(state) if jsonata else _jsonpath_reads(state, "")


class _Scan:
    def __init__(self, report: Report, top_jsonata: bool) -> None:
        self.report = report
        self.top_jsonata = top_jsonata

    def machine(self, machine: dict[str, Any], location: str, outer: frozenset[str]) -> None:
        states: dict[str, Any] = machine["States"]
        visible = outer | {name for state in states.values() for name in assigned_names(state)}
        for name, state in states.items():
            at = child(child(location, "States"), name)
            self.state(state, at, visible)

    def state(self, state: dict[str, Any], location: str, visible: frozenset[str]) -> None:
        jsonata = state.get("QueryLanguage", JSONATA if self.top_jsonata else None) == JSONATA
        for relative, name in _reads(state, jsonata):
            if name not in visible:
                self.report.warning(
                    pointer(location, relative),
                    f"no state this one can see assigns the variable ${name}: reading it "
                    "fails at run time (unless the expression only tests it, as with $exists)",
                    Code.UNASSIGNED_VARIABLE,
                )
        for i, branch in enumerate(state.get("Branches", ())):
            self.machine(branch, child(child(location, "Branches"), i), visible)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                processor = state[key]
                mode = processor.get("ProcessorConfig", {}).get("Mode")
                inner = frozenset() if mode == "DISTRIBUTED" else visible
                self.machine(processor, child(location, key), inner)


def check_variable_references(report: Report, definition: dict[str, Any]) -> None:
    """Warn about every read of a variable no state in view assigns (valid definitions)."""
    _Scan(report, definition.get("QueryLanguage") == JSONATA).machine(definition, "/", frozenset())
