"""JSONata expressions in a definition: each must parse, and read only what AWS allows.

Checked for every `{% %}` string in a JSONata state's own fields (not in the branches or
item processor it holds, which are checked as states of their own):

- it parses (INVALID_JSONATA_EXPRESSION, with the parser's message);
- it does not use `$$` (UNSUPPORTED_JSONATA_EXPRESSION: "Reference to '$$' is not
  supported."), nor read a field name from the context item at the top level: expressions
  run with no context item, so `{% phone %}` could only ever be undefined ("Reference to
  'phone' at the top level is not supported.");
- `$states.errorOutput` appears only in a catcher's `Output` and `Assign`, the one place it
  has a value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from scheduler.asl.jsonata import JsonataSyntaxError, compile_expression, expression_text
from scheduler.asl.jsonata_analysis import analyse, expressions_in
from scheduler.asl.validate_common import Code, Report, child

#: Fields whose strings are never evaluated (names, transitions, configuration).
LITERAL_FIELDS: Final = frozenset(
    {
        "Type",
        "Comment",
        "QueryLanguage",
        "Next",
        "End",
        "Default",
        "Resource",
        "Label",
        "Retry",
        "Branches",
        "ItemProcessor",
        "Iterator",
        "ProcessorConfig",
    }
)
_CATCHER_FIELDS: Final = frozenset({"Output", "Assign"})


def pointer(location: str, relative: str) -> str:
    """The JSON pointer of `relative` (`Output/a[0]`) under the state at `location`."""
    at = location
    for part in relative.replace("[", "/").replace("]", "").split("/"):
        if part:
            at = child(at, part)
    return at


def _expressions(state: dict[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """(field location relative to the state, expression string, may read errorOutput)."""
    for key, value in state.items():
        if key in LITERAL_FIELDS:
            continue
        if key == "Catch" and isinstance(value, list):
            for i, catcher in enumerate(value):
                if not isinstance(catcher, dict):
                    continue
                for field in _CATCHER_FIELDS & catcher.keys():
                    for where, text in expressions_in(catcher[field], f"Catch[{i}]/{field}"):
                        yield where, text, True
            continue
        for where, text in expressions_in(value, key):
            yield where, text, False


def check_jsonata_expressions(report: Report, location: str, state: dict[str, Any]) -> None:
    """Report every expression of a JSONata state that does not parse or that AWS refuses."""
    for relative, text, in_catcher in _expressions(state):
        at = pointer(location, relative)
        try:
            expression = compile_expression(expression_text(text))
        except JsonataSyntaxError as error:
            report.error(
                at,
                f"the JSONata expression does not parse: {error}",
                Code.INVALID_JSONATA_EXPRESSION,
            )
            continue
        findings = analyse(expression)
        refused = []
        if findings.root_context:
            refused.append("Reference to '$$' is not supported.")
        refused += [
            f"Reference to '{name}' at the top level is not supported: read the input as "
            f"$states.input.{name} (or a variable as ${name})"
            for name in dict.fromkeys(findings.top_level_names)
        ]
        if "errorOutput" in findings.states_fields and not in_catcher:
            refused.append(
                "$states.errorOutput is only available in a catcher's Output and Assign."
            )
        for message in refused:
            report.error(at, message, Code.UNSUPPORTED_JSONATA_EXPRESSION)
