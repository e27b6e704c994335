"""Tests of the definition validator (scheduler.asl.validate).

The most important test runs the validator over every definition recorded against real
AWS in the shared conformance cases: AWS accepted each one, so none may get an ERROR.
The rest check each rule with a small bad definition: code, location and message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from scheduler.asl.validate import (
    Code,
    Diagnostic,
    Severity,
    validate_definition,
    validate_definition_text,
)

# --- helpers ------------------------------------------------------------------------------


def machine(
    *, start: str | None = None, top: dict[str, Any] | None = None, **states: Any
) -> dict[str, Any]:
    """A definition whose StartAt is the first state given."""
    return {"StartAt": start or next(iter(states)), "States": states, **(top or {})}


def errors(definition: Any, **kwargs: Any) -> list[Diagnostic]:
    """The ERROR diagnostics of `definition`."""
    found = validate_definition(definition, **kwargs)
    return [d for d in found if d.severity == Severity.ERROR]


def only(definition: Any, code: str, location: str, *fragments: str) -> Diagnostic:
    """Assert `definition` has exactly one diagnostic, at `location`, with `fragments`."""
    found = validate_definition(definition)
    assert len(found) == 1, "\n".join(map(str, found))
    return expect(found, code, location, *fragments)


def expect(found: list[Diagnostic], code: str, location: str, *fragments: str) -> Diagnostic:
    """The diagnostic with `code` at `location` whose message holds every fragment."""
    for diagnostic in found:
        if (
            diagnostic.code == code
            and diagnostic.location == location
            and all(fragment in diagnostic.message for fragment in fragments)
        ):
            return diagnostic
    listing = "\n".join(f"{d.code} {d}" for d in found)
    raise AssertionError(f"no {code} at {location} with {fragments!r} in:\n{listing}")


def machine_of(states: dict[str, Any]) -> dict[str, Any]:
    """A definition from a dict of states (for names that are not identifiers)."""
    return {"StartAt": next(iter(states)), "States": states}


PASS_END: dict[str, Any] = {"Type": "Pass", "End": True}
SCHEMA = Code.SCHEMA_VALIDATION_FAILED


# --- every definition AWS accepted --------------------------------------------------------


def conformance_dir() -> Path:
    """`<repo>/../shared/conformance`, or $STEPLINE_CONFORMANCE_DIR when set."""
    override = os.environ.get("STEPLINE_CONFORMANCE_DIR")
    if override:
        return Path(override)
    repo = Path(__file__).resolve().parents[3]
    return repo.parent / "shared" / "conformance"


def _conformance_cases() -> list[Any]:
    root = conformance_dir()
    cases = sorted((root / "cases").glob("*.json"))
    if not cases:
        skip = pytest.mark.skip(reason=f"no conformance cases in {root}")
        return [pytest.param(None, marks=skip)]
    return [pytest.param(path, id=path.stem) for path in cases]


@pytest.mark.parametrize("case", _conformance_cases())
def test_accepts_every_definition_aws_accepted(case: Path) -> None:
    definition = json.loads(case.read_text())["definition"]
    found = errors(definition)
    assert found == [], "\n".join(f"{d.code} {d}" for d in found)
    # The same definition as text: no duplicate keys, valid JSON.
    text_errors = [
        d for d in validate_definition_text(json.dumps(definition)) if d.severity == "ERROR"
    ]
    assert text_errors == []


# --- the whole definition -----------------------------------------------------------------


def test_valid_definition_has_no_diagnostics() -> None:
    definition = machine(
        A={"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "Next": "B"},
        B={
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.r.x", "NumericEquals": 1, "Next": "C"},
            ],
            "Default": "D",
        },
        C={"Type": "Succeed"},
        D={"Type": "Fail", "Error": "E", "Cause": "c"},
        top={"Comment": "ok", "Version": "1.0", "TimeoutSeconds": 60},
    )
    assert validate_definition(definition) == []


@pytest.mark.parametrize("value", [[], "text", 3, True])
def test_a_definition_that_is_not_an_object_gives_one_diagnostic(value: Any) -> None:
    only(value, SCHEMA, "/", "must be a JSON object")


def test_a_missing_definition_is_missing_description() -> None:
    only(None, Code.MISSING_DESCRIPTION, "/", "empty")


def test_missing_start_at_and_states_are_both_reported() -> None:
    found = validate_definition({})
    expect(found, SCHEMA, "/", '"StartAt"')
    expect(found, SCHEMA, "/", '"States"')


def test_start_at_must_name_a_state() -> None:
    only(
        machine(start="Nope", A=PASS_END),
        Code.MISSING_TRANSITION_TARGET,
        "/StartAt",
        'state "Nope" does not exist',
    )


def test_states_must_not_be_empty() -> None:
    only({"StartAt": "A", "States": {}}, SCHEMA, "/States", "at least one state")


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("Version", "2.0", '"1.0"'),
        ("TimeoutSeconds", 0, "positive integer"),
        ("TimeoutSeconds", "60", "positive integer"),
        ("QueryLanguage", "XPath", '"JSONPath" or "JSONata"'),
        ("Comment", 7, "must be a string"),
    ],
)
def test_top_level_field_values(field: str, value: Any, fragment: str) -> None:
    only(machine(A=PASS_END, top={field: value}), SCHEMA, f"/{field}", fragment)


def test_unknown_fields_are_errors_or_warnings_by_policy() -> None:
    definition = machine(A={**PASS_END, "Colour": "red"}, top={"Owner": "me"})
    strict = validate_definition(definition)
    assert [(d.location, d.severity) for d in strict] == [
        ("/Owner", "ERROR"),
        ("/States/A/Colour", "ERROR"),
    ]
    expect(strict, SCHEMA, "/States/A/Colour", 'unknown field "Colour" in a Pass state')
    lenient = validate_definition(definition, unknown_fields_are_errors=False)
    assert [(d.location, d.severity) for d in lenient] == [
        ("/Owner", "WARNING"),
        ("/States/A/Colour", "WARNING"),
    ]


def test_unknown_field_suggests_the_closest_known_one() -> None:
    found = validate_definition(machine(A={"Type": "Pass", "End": True, "Nxt": "A"}))
    expect(found, SCHEMA, "/States/A/Nxt", 'did you mean "Next"?')


def test_a_known_field_in_the_wrong_state_is_always_an_error() -> None:
    definition = machine(A={"Type": "Succeed", "Next": "A"})
    for lenient in (False, True):
        found = validate_definition(definition, unknown_fields_are_errors=not lenient)
        diagnostic = expect(found, SCHEMA, "/States/A/Next", "not allowed in a Succeed state")
        assert diagnostic.severity == "ERROR"


def test_diagnostic_reads_as_location_and_message() -> None:
    found = validate_definition(machine(Foo={"Type": "Pass", "Next": "Bar"}, Baz=PASS_END))
    diagnostic = expect(found, Code.MISSING_TRANSITION_TARGET, "/States/Foo/Next")
    assert str(diagnostic) == '/States/Foo/Next: state "Bar" does not exist'
    assert diagnostic.severity == "ERROR"


def test_several_problems_are_reported_at_once_in_document_order() -> None:
    definition = machine(
        A={"Type": "Task", "Next": "Nowhere"},
        B={"Type": "Wait", "End": True},
        C={"Type": "Pass", "InputPath": "oops", "Retry": [], "End": True},
        top={"Version": 2},
    )
    found = validate_definition(definition)
    assert [(d.code, d.location) for d in found] == [
        (SCHEMA, "/Version"),
        (Code.MISSING_TRANSITION_TARGET, "/States/A/Next"),
        (SCHEMA, "/States/A"),  # no Resource
        (SCHEMA, "/States/B"),  # no Seconds/Timestamp/...
        (SCHEMA, "/States/C/Retry"),  # not allowed on Pass
        (SCHEMA, "/States/C/InputPath"),
        (Code.MISSING_TRANSITION_TARGET, "/States/B"),  # unreachable
        (Code.MISSING_TRANSITION_TARGET, "/States/C"),  # unreachable
    ]


# --- states: type, Next/End ---------------------------------------------------------------


def test_state_type_is_required_and_known() -> None:
    only(machine(A={"End": True}), SCHEMA, "/States/A", '"Type"')
    only(
        machine(A={"Type": "Sleep", "End": True}),
        SCHEMA,
        "/States/A/Type",
        'unknown state type "Sleep"',
    )


def test_state_must_be_an_object() -> None:
    found = validate_definition(machine(A=PASS_END, B=[]))
    expect(found, SCHEMA, "/States/B", "must be an object")


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        ({"Type": "Pass"}, 'either "Next" or "End": true'),
        ({"Type": "Pass", "End": False}, 'either "Next" or "End": true'),
        ({"Type": "Pass", "Next": "A", "End": True}, 'both "Next" and "End"'),
    ],
)
def test_next_xor_end(state: dict[str, Any], fragment: str) -> None:
    found = validate_definition(machine(A=state, B={"Type": "Succeed"}, start="A"))
    expect(found, SCHEMA, "/States/A", fragment)


def test_end_must_be_a_boolean() -> None:
    found = validate_definition(machine(A={"Type": "Pass", "End": "yes"}))
    expect(found, SCHEMA, "/States/A/End", "must be true")


@pytest.mark.parametrize("kind", ["Choice", "Succeed", "Fail"])
def test_states_without_transitions_reject_next_and_end(kind: str) -> None:
    state: dict[str, Any] = {"Type": kind, "End": True}
    if kind == "Choice":
        state["Choices"] = [{"Variable": "$.x", "IsPresent": True, "Next": "Z"}]
    found = errors(machine(A=state, Z=PASS_END))
    expect(found, SCHEMA, "/States/A/End", f"not allowed in a {kind} state")


# --- state names --------------------------------------------------------------------------


def test_state_name_length_and_characters() -> None:
    long_name = "x" * 81
    only(
        machine_of({long_name: PASS_END}),
        Code.INVALID_STATE_NAME,
        f"/States/{long_name}",
        "1 to 80 characters",
    )
    only(
        machine_of({"bad\tname": PASS_END}),
        Code.INVALID_STATE_NAME,
        "/States/bad\tname",
        "control characters",
    )
    assert validate_definition(machine_of({"x" * 80: PASS_END})) == []


def test_state_names_are_escaped_in_locations() -> None:
    found = validate_definition(machine_of({"a/b~c": {"Type": "Pass", "Next": "none"}}))
    expect(found, Code.MISSING_TRANSITION_TARGET, "/States/a~1b~0c/Next")


def test_a_nested_state_may_not_reuse_a_top_level_name() -> None:
    branch = {"StartAt": "A", "States": {"A": PASS_END}}
    definition = machine(P={"Type": "Parallel", "Branches": [branch], "Next": "A"}, A=PASS_END)
    only(
        definition,
        Code.DUPLICATE_STATE_NAME,
        "/States/A",
        "already used at /States/P/Branches/0/States/A",
    )


def test_state_names_must_be_unique_across_branches() -> None:
    branch = {"StartAt": "Same", "States": {"Same": PASS_END}}
    definition = machine(P={"Type": "Parallel", "Branches": [branch, branch], "End": True})
    only(
        definition,
        Code.DUPLICATE_STATE_NAME,
        "/States/P/Branches/1/States/Same",
        "already used at /States/P/Branches/0/States/Same",
    )


# --- transitions, reachability, terminal states -------------------------------------------


def test_unreachable_states_are_reported() -> None:
    only(
        machine(A=PASS_END, B=PASS_END),
        Code.MISSING_TRANSITION_TARGET,
        "/States/B",
        'state "B" is not reachable from StartAt "A"',
    )


def test_a_machine_needs_a_terminal_state() -> None:
    definition = machine(A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass", "Next": "A"})
    only(definition, Code.MISSING_END_STATE, "/States", "no terminal state")


def test_next_cannot_leave_a_parallel_branch() -> None:
    branch = {"StartAt": "In", "States": {"In": {"Type": "Pass", "Next": "After"}, "X": PASS_END}}
    definition = machine(
        P={"Type": "Parallel", "Branches": [branch], "Next": "After"},
        After=PASS_END,
    )
    found = errors(definition)
    expect(
        found,
        Code.MISSING_TRANSITION_TARGET,
        "/States/P/Branches/0/States/In/Next",
        'state "After" does not exist in this scope',
        "defined at /States/After",
    )


def test_catch_and_default_targets_must_exist() -> None:
    definition = machine(
        T={
            "Type": "Task",
            "Resource": "r",
            "End": True,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}],
        },
    )
    only(definition, Code.MISSING_TRANSITION_TARGET, "/States/T/Catch/0/Next", '"Gone"')
    choice = machine(
        C={
            "Type": "Choice",
            "Default": "Gone",
            "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Z"}],
        },
        Z={"Type": "Succeed"},
    )
    only(choice, Code.MISSING_TRANSITION_TARGET, "/States/C/Default", '"Gone"')


def test_catch_targets_make_states_reachable() -> None:
    definition = machine(
        T={
            "Type": "Task",
            "Resource": "r",
            "End": True,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handler"}],
        },
        Handler=PASS_END,
    )
    assert validate_definition(definition) == []


# --- Task ---------------------------------------------------------------------------------


def task(**fields: Any) -> dict[str, Any]:
    """A machine with one Task state `T` holding `fields`."""
    return machine(
        T={"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True, **fields}
    )


def test_task_needs_a_resource() -> None:
    only(machine(T={"Type": "Task", "End": True}), SCHEMA, "/States/T", '"Resource"')


@pytest.mark.parametrize("resource", ["", "arn:aws:lambda"])
def test_task_resource_must_be_valid(resource: str) -> None:
    only(task(Resource=resource), Code.INVALID_RESOURCE, "/States/T/Resource")


def test_task_resource_placeholders_are_fine() -> None:
    assert validate_definition(task(Resource="__CF_RES_0_ARN__")) == []


@pytest.mark.parametrize(
    ("fields", "location", "fragment"),
    [
        ({"TimeoutSeconds": 0}, "/States/T/TimeoutSeconds", "positive integer"),
        ({"TimeoutSeconds": 1.5}, "/States/T/TimeoutSeconds", "positive integer"),
        ({"HeartbeatSeconds": True}, "/States/T/HeartbeatSeconds", "got a boolean"),
        (
            {"TimeoutSeconds": 5, "HeartbeatSeconds": 5},
            "/States/T/HeartbeatSeconds",
            "smaller than TimeoutSeconds (5)",
        ),
        ({"TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t"}, "/States/T", "mutually exclusive"),
        ({"HeartbeatSecondsPath": "t"}, "/States/T/HeartbeatSecondsPath", "must start with '$'"),
        ({"Result": 1}, "/States/T/Result", "not allowed in a Task state"),
        ({"Credentials": "role"}, "/States/T/Credentials", "must be an object"),
    ],
)
def test_task_fields(fields: dict[str, Any], location: str, fragment: str) -> None:
    only(task(**fields), SCHEMA, location, fragment)


# --- Pass, Wait, Fail, Succeed ------------------------------------------------------------


def test_pass_result_with_dollar_keys_is_a_static_warning() -> None:
    diagnostic = only(
        machine(A={**PASS_END, "Result": {"x.$": "$.y"}}),
        Code.PASS_RESULT_IS_STATIC,
        "/States/A/Result/x.$",
        "not evaluated",
    )
    assert diagnostic.severity == "WARNING"


@pytest.mark.parametrize(
    ("fields", "location", "fragment"),
    [
        ({}, "/States/W", 'needs one of "Seconds"'),
        ({"Seconds": 1, "SecondsPath": "$.s"}, "/States/W", "mutually exclusive"),
        ({"Seconds": -1}, "/States/W/Seconds", "from 0 to 99999999"),
        ({"Seconds": "10"}, "/States/W/Seconds", "got a string"),
        ({"Timestamp": "2016-03-14 01:59:00"}, "/States/W/Timestamp", "RFC 3339"),
        ({"Timestamp": "2016-02-30T01:59:00Z"}, "/States/W/Timestamp", "RFC 3339"),
        ({"TimestampPath": "$.a[?(@"}, "/States/W/TimestampPath", "not a valid JSONPath"),
    ],
)
def test_wait_fields(fields: dict[str, Any], location: str, fragment: str) -> None:
    only(machine(W={"Type": "Wait", "End": True, **fields}), SCHEMA, location, fragment)


@pytest.mark.parametrize(
    "timestamp",
    [
        "2016-03-14T01:59:00Z",
        "2016-03-05T21:29:29.243167252Z",
        "2016-03-14T01:59:00+02:00",
    ],
)
def test_wait_accepts_rfc3339_timestamps(timestamp: str) -> None:
    assert (
        validate_definition(machine(W={"Type": "Wait", "End": True, "Timestamp": timestamp})) == []
    )


@pytest.mark.parametrize(
    ("fields", "location", "fragment"),
    [
        ({"Error": "E", "ErrorPath": "$.e"}, "/States/F", "mutually exclusive"),
        ({"Cause": "C", "CausePath": "$.c"}, "/States/F", "mutually exclusive"),
        ({"Error": 42}, "/States/F/Error", "must be a string"),
        ({"CausePath": "cause"}, "/States/F/CausePath", "must start with '$'"),
        ({"InputPath": "$"}, "/States/F/InputPath", "not allowed in a Fail state"),
    ],
)
def test_fail_fields(fields: dict[str, Any], location: str, fragment: str) -> None:
    only(machine(F={"Type": "Fail", **fields}), SCHEMA, location, fragment)


def test_fail_paths_may_be_intrinsic_calls() -> None:
    definition = machine(
        F={"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('bad {}', $.x)"}
    )
    assert validate_definition(definition) == []


# --- Parallel and nested machines ---------------------------------------------------------


@pytest.mark.parametrize(
    ("branches", "location", "fragment"),
    [
        (None, "/States/P", '"Branches"'),
        ([], "/States/P/Branches", "at least one branch"),
        ({"StartAt": "X"}, "/States/P/Branches", "must be an array"),
        ([{"States": {"X": PASS_END}}], "/States/P/Branches/0", '"StartAt"'),
        (
            [{"StartAt": "X", "States": {"X": PASS_END}, "TimeoutSeconds": 3}],
            "/States/P/Branches/0/TimeoutSeconds",
            "not allowed in a Parallel branch",
        ),
    ],
)
def test_parallel_branches(branches: Any, location: str, fragment: str) -> None:
    state: dict[str, Any] = {"Type": "Parallel", "End": True}
    if branches is not None:
        state["Branches"] = branches
    only(machine(P=state), SCHEMA, location, fragment)


def test_nested_machines_are_validated_like_the_top_level() -> None:
    branch = {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}, "Y": {"Type": "Nap"}}}
    found = validate_definition(machine(P={"Type": "Parallel", "Branches": [branch], "End": True}))
    expect(found, SCHEMA, "/States/P/Branches/0/States/Y/Type", 'unknown state type "Nap"')
    expect(found, Code.MISSING_END_STATE, "/States/P/Branches/0/States", "no terminal state")


def test_too_deep_nesting_is_reported_not_crashed_on() -> None:
    inner: dict[str, Any] = machine(S0=PASS_END)
    for level in range(1, 150):
        inner = machine_of({f"S{level}": {"Type": "Parallel", "Branches": [inner], "End": True}})
    found = validate_definition(inner)
    assert [d.code for d in found] == [Code.TOO_DEEPLY_NESTED]
    assert validate_definition_text(json.dumps(inner))[0].code == Code.TOO_DEEPLY_NESTED


# --- Map ----------------------------------------------------------------------------------


PROCESSOR: dict[str, Any] = {"StartAt": "Item", "States": {"Item": PASS_END}}


def map_state(**fields: Any) -> dict[str, Any]:
    """A machine with one Map state `M` holding an inline processor and `fields`
    (a distributed one when `fields` hold a Distributed Map's own fields)."""
    processor = PROCESSOR
    if fields.keys() & DISTRIBUTED_ONLY:
        config = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        processor = {**PROCESSOR, "ProcessorConfig": config}
    return machine(M={"Type": "Map", "ItemProcessor": processor, "End": True, **fields})


DISTRIBUTED_ONLY = {"ItemReader", "ItemBatcher", "ResultWriter"}


@pytest.mark.parametrize("name", sorted(DISTRIBUTED_ONLY))
def test_reader_batcher_and_writer_need_a_distributed_map(name: str) -> None:
    fields = {
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject"},
        "ItemBatcher": {"MaxItemsPerBatch": 2},
        "ResultWriter": {"WriterConfig": {"OutputType": "JSON"}},
    }
    inline = machine(M={"Type": "Map", "ItemProcessor": PROCESSOR, "End": True, name: fields[name]})
    only(inline, SCHEMA, f"/States/M/{name}", '"Mode": "DISTRIBUTED"')


def test_map_needs_exactly_one_processor() -> None:
    only(machine(M={"Type": "Map", "End": True}), SCHEMA, "/States/M", '"ItemProcessor"')
    both = machine(
        M={
            "Type": "Map",
            "End": True,
            "ItemProcessor": PROCESSOR,
            "Iterator": {"StartAt": "I", "States": {"I": PASS_END}},
        }
    )
    only(both, SCHEMA, "/States/M", "mutually exclusive")


@pytest.mark.parametrize(
    ("fields", "location", "fragment"),
    [
        ({"ItemsPath": "items"}, "/States/M/ItemsPath", "must start with '$'"),
        ({"ItemsPath": None}, "/States/M/ItemsPath", "got null"),
        ({"MaxConcurrency": -1}, "/States/M/MaxConcurrency", "integer >= 0"),
        ({"MaxConcurrency": 1, "MaxConcurrencyPath": "$.n"}, "/States/M", "mutually exclusive"),
        (
            {"ToleratedFailurePercentage": 150},
            "/States/M/ToleratedFailurePercentage",
            "from 0 to 100",
        ),
        ({"ToleratedFailureCount": "1"}, "/States/M/ToleratedFailureCount", "integer >= 0"),
        (
            {"ToleratedFailureCountPath": "$.n", "ToleratedFailureCount": 1},
            "/States/M",
            "mutually exclusive",
        ),
        (
            {"ItemSelector": {"a.$": "$$.Map.Item.Value"}, "Parameters": {}},
            "/States/M",
            "mutually exclusive",
        ),
        ({"ItemSelector": "x"}, "/States/M/ItemSelector", "must be an object"),
        ({"ItemReader": {"ReaderConfig": {}}}, "/States/M/ItemReader", '"Resource"'),
        (
            {
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"CSVHeaderLocation": "GIVEN"},
                }
            },
            "/States/M/ItemReader/ReaderConfig",
            '"CSVHeaders"',
        ),
        ({"ItemBatcher": {}}, "/States/M/ItemBatcher", '"MaxItemsPerBatch"'),
        (
            {"ItemBatcher": {"MaxItemsPerBatch": 0}},
            "/States/M/ItemBatcher/MaxItemsPerBatch",
            "positive integer",
        ),
        ({"ResultWriter": {}}, "/States/M/ResultWriter", '"Resource" or a "WriterConfig"'),
        ({"Items": [1, 2]}, "/States/M/Items", '"Items" is a JSONata field'),
    ],
)
def test_map_fields(fields: dict[str, Any], location: str, fragment: str) -> None:
    only(map_state(**fields), SCHEMA, location, fragment)


@pytest.mark.parametrize(
    ("config", "location", "fragment"),
    [
        (
            {"Mode": "PARALLEL"},
            "/States/M/ItemProcessor/ProcessorConfig/Mode",
            '"INLINE" or "DISTRIBUTED"',
        ),
        ({"Mode": "DISTRIBUTED"}, "/States/M/ItemProcessor/ProcessorConfig", '"ExecutionType"'),
        (
            {"Mode": "DISTRIBUTED", "ExecutionType": "FAST"},
            "/States/M/ItemProcessor/ProcessorConfig/ExecutionType",
            '"STANDARD" or "EXPRESS"',
        ),
    ],
)
def test_map_processor_config(config: dict[str, Any], location: str, fragment: str) -> None:
    definition = machine(
        M={"Type": "Map", "End": True, "ItemProcessor": {**PROCESSOR, "ProcessorConfig": config}}
    )
    only(definition, SCHEMA, location, fragment)


def test_map_reader_enums_follow_the_unknown_policy() -> None:
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "XML"}}
    definition = map_state(ItemReader=reader)
    location = "/States/M/ItemReader/ReaderConfig/InputType"
    only(definition, SCHEMA, location, 'unknown value "XML"')
    lenient = validate_definition(definition, unknown_fields_are_errors=False)
    assert [(d.location, d.severity) for d in lenient] == [(location, "WARNING")]


def test_map_labels_must_be_valid_and_unique() -> None:
    only(map_state(Label="has space"), Code.INVALID_LABEL_NAME, "/States/M/Label", "whitespace")
    only(map_state(Label="x" * 41), Code.INVALID_LABEL_NAME, "/States/M/Label", "1 to 40")
    definition = machine(
        A={"Type": "Map", "ItemProcessor": PROCESSOR, "Label": "L", "Next": "B"},
        B={
            "Type": "Map",
            "ItemProcessor": {"StartAt": "I2", "States": {"I2": PASS_END}},
            "Label": "L",
            "End": True,
        },
    )
    only(
        definition, Code.DUPLICATE_LABEL_NAME, "/States/B/Label", "already used at /States/A/Label"
    )


def test_a_distributed_map_with_reader_batcher_writer_is_valid() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "End": True,
            "Label": "Batch_1",
            "MaxConcurrencyPath": "$.n",
            "ToleratedFailurePercentage": 12.5,
            "ItemProcessor": {
                **PROCESSOR,
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            },
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "Parameters": {"Bucket.$": "$.bucket", "Key": "k"},
                "ReaderConfig": {
                    "InputType": "CSV",
                    "CSVHeaderLocation": "FIRST_ROW",
                    "MaxItems": 10,
                },
            },
            "ItemBatcher": {"MaxItemsPerBatch": 10, "BatchInput": {"run.$": "$$.Execution.Id"}},
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "b", "Prefix": "p"},
            },
            "Retry": [{"ErrorEquals": ["States.ALL"]}],
        }
    )
    assert validate_definition(definition) == []


def test_map_processor_states_are_a_scope_of_their_own() -> None:
    processor = {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "Next": "Done"}}}
    definition = machine(
        M={"Type": "Map", "ItemProcessor": processor, "Next": "Done"}, Done=PASS_END
    )
    found = errors(definition)
    expect(
        found,
        Code.MISSING_TRANSITION_TARGET,
        "/States/M/ItemProcessor/States/Item/Next",
        "cannot leave",
    )


# --- Choice -------------------------------------------------------------------------------


def choice(*rules: Any) -> dict[str, Any]:
    """A machine whose Choice state `C` holds `rules`; every rule may go to `Z`."""
    return machine(
        C={"Type": "Choice", "Choices": list(rules), "Default": "Z"}, Z={"Type": "Succeed"}
    )


def rule(**fields: Any) -> dict[str, Any]:
    """A top-level rule comparing `$.v`, going to `Z`."""
    return {"Variable": "$.v", "Next": "Z", **fields}


def test_choice_needs_non_empty_choices() -> None:
    only(
        machine(C={"Type": "Choice", "Default": "Z"}, Z={"Type": "Succeed"}),
        SCHEMA,
        "/States/C",
        '"Choices"',
    )
    only(choice(), SCHEMA, "/States/C/Choices", "at least one choice rule")


@pytest.mark.parametrize(
    ("operator", "operand", "fragment"),
    [
        ("StringEquals", 1, "takes a string, got a number"),
        ("StringLessThan", None, "takes a string, got null"),
        ("NumericEquals", "1", 'takes a number, got "1"'),
        ("NumericGreaterThan", True, "takes a number, got a boolean"),
        ("BooleanEquals", "true", 'takes true or false, got "true"'),
        ("TimestampEquals", "2020-01-01", "RFC 3339"),
        ("IsPresent", "yes", "takes true or false"),
        ("StringEqualsPath", "v", "must start with '$'"),
        ("NumericLessThanPath", 3, "must be a JSONPath string"),
    ],
)
def test_choice_operand_types(operator: str, operand: Any, fragment: str) -> None:
    only(choice(rule(**{operator: operand})), SCHEMA, f"/States/C/Choices/0/{operator}", fragment)


@pytest.mark.parametrize(
    ("bad_rule", "location", "fragment"),
    [
        ({"Variable": "$.v", "IsNull": True}, "/States/C/Choices/0", '"Next"'),
        ({"Next": "Z"}, "/States/C/Choices/0", "needs one comparison operator"),
        (
            rule(IsNull=True, IsString=True),
            "/States/C/Choices/0",
            'exactly one operator, found "IsNull", "IsString"',
        ),
        ({"IsNull": True, "Next": "Z"}, "/States/C/Choices/0", '"Variable"'),
        (rule(IsNull=True, Variable="v"), "/States/C/Choices/0/Variable", "must start with '$'"),
        ({"And": [], "Next": "Z"}, "/States/C/Choices/0/And", "at least one choice rule"),
        (
            {"Or": {"Variable": "$.v", "IsNull": True}, "Next": "Z"},
            "/States/C/Choices/0/Or",
            "must be an array",
        ),
        ({"Not": [], "Next": "Z"}, "/States/C/Choices/0/Not", "must be an object"),
        (
            {"Not": {"Variable": "$.v", "IsNull": True, "Next": "Z"}, "Next": "Z"},
            "/States/C/Choices/0/Not/Next",
            "not allowed in a nested choice rule",
        ),
        (
            {"And": [{"Variable": "$.v", "IsNull": True}], "Variable": "$.v", "Next": "Z"},
            "/States/C/Choices/0/Variable",
            'combined with "And"',
        ),
        (
            rule(StringEqual="x", IsNull=True),
            "/States/C/Choices/0/StringEqual",
            'did you mean "StringEquals"?',
        ),
        (
            rule(Condition="{% true %}", IsNull=True),
            "/States/C/Choices/0/Condition",
            '"Condition" is a JSONata field',
        ),
    ],
)
def test_choice_rule_structure(bad_rule: dict[str, Any], location: str, fragment: str) -> None:
    only(choice(bad_rule), SCHEMA, location, fragment)


def test_choice_accepts_every_operator_family() -> None:
    definition = choice(
        rule(StringMatches="log-*.txt"),
        rule(IsTimestamp=False),
        rule(TimestampLessThanEquals="2016-03-14T01:59:00Z"),
        rule(BooleanEqualsPath="$$.Execution.Input.flag"),
        {
            "And": [
                {"Variable": "$.a", "NumericGreaterThanEquals": 1.5},
                {
                    "Or": [
                        {"Variable": "$.b", "StringEquals": "x"},
                        {"Not": {"Variable": "$.c", "IsPresent": True}},
                    ]
                },
            ],
            "Next": "Z",
            "Assign": {"picked": "and"},
        },
    )
    assert validate_definition(definition) == []


def test_jsonata_choice_rules_need_a_condition() -> None:
    def jsonata_choice(*rules: Any) -> dict[str, Any]:
        return machine(
            C={"Type": "Choice", "Choices": list(rules), "Default": "Z", "Assign": {"x": 2}},
            Z={"Type": "Succeed"},
            top={"QueryLanguage": "JSONata"},
        )

    assert (
        validate_definition(
            jsonata_choice({"Condition": "{% $x > 1 %}", "Next": "Z", "Output": {"a": 1}})
        )
        == []
    )
    only(jsonata_choice({"Next": "Z"}), SCHEMA, "/States/C/Choices/0", '"Condition"')
    only(
        jsonata_choice({"Condition": "$x > 1", "Next": "Z"}),
        SCHEMA,
        "/States/C/Choices/0/Condition",
        "JSONata expression",
    )
    found = validate_definition(
        jsonata_choice({"Condition": "{% true %}", "Variable": "$.x", "Next": "Z"})
    )
    expect(found, SCHEMA, "/States/C/Choices/0/Variable", "not allowed")


# --- Retry and Catch ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "location", "fragment"),
    [
        ({"Retry": {}}, "/States/T/Retry", "must be an array"),
        ({"Retry": [{}]}, "/States/T/Retry/0", '"ErrorEquals"'),
        ({"Retry": [{"ErrorEquals": []}]}, "/States/T/Retry/0/ErrorEquals", "non-empty array"),
        ({"Retry": [{"ErrorEquals": [1]}]}, "/States/T/Retry/0/ErrorEquals/0", "non-empty string"),
        (
            {"Retry": [{"ErrorEquals": ["States.ALL", "X"]}]},
            "/States/T/Retry/0/ErrorEquals",
            "must appear alone",
        ),
        (
            {"Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]},
            "/States/T/Retry/0/ErrorEquals",
            "only appear in the last",
        ),
        (
            {"Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 0}]},
            "/States/T/Retry/0/IntervalSeconds",
            "from 1 to 99999999",
        ),
        (
            {"Retry": [{"ErrorEquals": ["X"], "MaxAttempts": -1}]},
            "/States/T/Retry/0/MaxAttempts",
            "from 0 to 99999999",
        ),
        (
            {"Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]},
            "/States/T/Retry/0/BackoffRate",
            ">= 1.0, got 0.5",
        ),
        (
            {"Retry": [{"ErrorEquals": ["X"], "MaxDelaySeconds": 0}]},
            "/States/T/Retry/0/MaxDelaySeconds",
            "from 1 to",
        ),
        (
            {"Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "HALF"}]},
            "/States/T/Retry/0/JitterStrategy",
            '"FULL" or "NONE"',
        ),
        ({"Catch": [{"ErrorEquals": ["X"]}]}, "/States/T/Catch/0", '"Next"'),
        (
            {"Catch": [{"ErrorEquals": ["X"], "Next": "T", "ResultPath": "$.a[*]"}]},
            "/States/T/Catch/0/ResultPath",
            "not a valid reference path",
        ),
        (
            {"Catch": [{"ErrorEquals": ["X"], "Next": "T", "Output": {}}]},
            "/States/T/Catch/0/Output",
            '"Output" is a JSONata field',
        ),
    ],
)
def test_retry_and_catch(retry: dict[str, Any], location: str, fragment: str) -> None:
    only(task(**retry), SCHEMA, location, fragment)


def test_unknown_states_error_names_get_a_warning() -> None:
    diagnostic = only(
        task(Retry=[{"ErrorEquals": ["States.Timeouts"]}]),
        SCHEMA,
        "/States/T/Retry/0/ErrorEquals/0",
        "not a predefined",
    )
    assert diagnostic.severity == "WARNING"


def test_a_full_retrier_and_catcher_are_valid() -> None:
    definition = task(
        Retry=[
            {
                "ErrorEquals": ["States.Timeout", "Custom"],
                "IntervalSeconds": 2,
                "MaxAttempts": 0,
                "BackoffRate": 1,
                "MaxDelaySeconds": 10,
                "JitterStrategy": "FULL",
                "Comment": "c",
            }
        ],
        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "T", "ResultPath": None}],
    )
    assert validate_definition(definition) == []


# --- paths and payload templates ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "location", "fragment"),
    [
        ({"InputPath": "input"}, "/States/A/InputPath", "must start with '$'"),
        ({"OutputPath": 3}, "/States/A/OutputPath", "JSONPath string or null"),
        ({"ResultPath": "$$.x"}, "/States/A/ResultPath", "reference path"),
        ({"ResultPath": "$..x"}, "/States/A/ResultPath", "reference path"),
        ({"Parameters": {"a.$": 1}}, "/States/A/Parameters/a.$", "got a number"),
        ({"Parameters": {"a.$": "a"}}, "/States/A/Parameters/a.$", "must start with '$'"),
        (
            {"Parameters": {"deep": [{"a.$": "$["}]}},
            "/States/A/Parameters/deep/0/a.$",
            "not a valid JSONPath",
        ),
        ({"Parameters": {"a": 1, "a.$": "$.a"}}, "/States/A/Parameters/a", "both set"),
    ],
)
def test_paths_and_templates(fields: dict[str, Any], location: str, fragment: str) -> None:
    only(machine(A={**PASS_END, **fields}), SCHEMA, location, fragment)


def test_null_paths_and_context_and_variable_paths_are_fine() -> None:
    definition = machine(
        A={
            **PASS_END,
            "InputPath": None,
            "OutputPath": None,
            "ResultPath": None,
            "Parameters": {
                "id.$": "$$.Execution.Id",
                "v.$": "$myVar.field",
                "all.$": "$.items[*].name",
                "lit": "plain",
            },
            "Assign": {"myVar": {"field": 1}},
        }
    )
    assert validate_definition(definition) == []


def test_a_path_in_a_plain_key_gets_a_no_dollar_warning() -> None:
    diagnostic = only(
        machine(A={**PASS_END, "Parameters": {"a": "$.x"}}),
        Code.NO_DOLLAR,
        "/States/A/Parameters/a",
        'does not end in ".$"',
    )
    assert diagnostic.severity == "WARNING"


def test_intrinsic_calls_in_templates_are_checked() -> None:
    from scheduler.asl.intrinsics import compile_intrinsic

    try:
        compile_intrinsic("States.UUID()")
    except NotImplementedError:
        pytest.skip("the intrinsic parser has not landed yet")
    good = machine(A={**PASS_END, "Parameters": {"a.$": "States.Format('x {}', $.y)"}})
    assert validate_definition(good) == []
    bad = machine(A={**PASS_END, "Parameters": {"a.$": "States.Format('x {}', $.y"}})
    only(bad, SCHEMA, "/States/A/Parameters/a.$", "invalid intrinsic function call")


@pytest.mark.parametrize(
    ("assign", "location", "fragment"),
    [
        ([], "/States/A/Assign", "must be an object"),
        ({"bad-name": 1}, "/States/A/Assign/bad-name", "not a valid variable name"),
        ({"states": 1}, "/States/A/Assign/states", "reserved"),
        ({"x.$": "x"}, "/States/A/Assign/x.$", "must start with '$'"),
    ],
)
def test_assign(assign: Any, location: str, fragment: str) -> None:
    only(machine(A={**PASS_END, "Assign": assign}), SCHEMA, location, fragment)


# --- query languages ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "location", "fragment"),
    [
        ({"Output": {}}, "/States/A/Output", '"Output" is a JSONata field'),
        ({"Arguments": {}}, "/States/A/Arguments", '"Arguments" is a JSONata field'),
    ],
)
def test_jsonata_fields_in_a_jsonpath_state(
    fields: dict[str, Any], location: str, fragment: str
) -> None:
    only(
        machine(A={"Type": "Task", "Resource": "r", "End": True, **fields}),
        SCHEMA,
        location,
        fragment,
    )


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("Parameters", {}, '"Arguments"'),
        ("InputPath", "$", "$states.input"),
        ("ResultPath", "$.r", '"Output"'),
        ("TimeoutSecondsPath", "$.t", '"TimeoutSeconds" with a JSONata'),
    ],
)
def test_jsonpath_fields_in_a_jsonata_state(field: str, value: Any, hint: str) -> None:
    state = {"Type": "Task", "Resource": "r", "End": True, "QueryLanguage": "JSONata", field: value}
    only(machine(T=state), SCHEMA, f"/States/T/{field}", "is a JSONPath field", hint)


def test_jsonata_states_accept_their_fields_and_expressions() -> None:
    definition = machine(
        T={
            "Type": "Task",
            "Resource": "r",
            "Next": "M",
            "Arguments": {"a": "{% $x %}"},
            "Output": "{% $states.result %}",
            "Assign": {"x": "{% 1 %}", "t": 9, "n": 1, "s": 0, "c": "why"},
            "TimeoutSeconds": "{% $t %}",
            "HeartbeatSeconds": 3,
        },
        M={
            "Type": "Map",
            "Items": "{% $states.input.items %}",
            "Next": "W",
            "MaxConcurrency": "{% $n %}",
            "ItemSelector": {"v": "{% $states.context %}"},
            "ItemProcessor": {"StartAt": "I", "States": {"I": {**PASS_END, "Output": 1}}},
        },
        W={"Type": "Wait", "Seconds": "{% $s %}", "Next": "F"},
        F={"Type": "Fail", "Error": "{% 'E' %}", "Cause": "{% $c %}"},
        top={"QueryLanguage": "JSONata"},
    )
    assert validate_definition(definition) == []


def test_a_jsonata_machine_cannot_hold_jsonpath_states() -> None:
    definition = machine(
        A={**PASS_END, "QueryLanguage": "JSONPath"}, top={"QueryLanguage": "JSONata"}
    )
    only(definition, SCHEMA, "/States/A/QueryLanguage", "cannot use JSONPath")


def test_a_jsonpath_machine_may_hold_jsonata_states_and_their_children() -> None:
    definition = machine(
        A={"Type": "Pass", "Next": "M", "Parameters": {"a.$": "$.a"}},
        M={
            "Type": "Map",
            "QueryLanguage": "JSONata",
            "Items": [1, 2],
            "End": True,
            "ItemProcessor": {
                "StartAt": "I",
                "States": {"I": {**PASS_END, "QueryLanguage": "JSONata", "Output": 1}},
            },
        },
    )
    assert validate_definition(definition) == []


def test_nested_states_fall_back_to_the_machine_language_not_the_enclosing_state() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "QueryLanguage": "JSONata",
            "Items": [1, 2],
            "End": True,
            "ItemProcessor": {"StartAt": "I", "States": {"I": {**PASS_END, "Output": 1}}},
        },
    )
    only(
        definition,
        SCHEMA,
        "/States/M/ItemProcessor/States/I/Output",
        '"Output" is a JSONata field',
    )


def test_state_query_language_must_be_known() -> None:
    only(
        machine(A={**PASS_END, "QueryLanguage": "jq"}),
        SCHEMA,
        "/States/A/QueryLanguage",
        '"JSONPath" or "JSONata"',
    )


# --- definitions as text ------------------------------------------------------------------


def test_text_that_is_not_json_gives_line_and_column() -> None:
    found = validate_definition_text('{\n  "StartAt": "A",\n  "States": {\n}')
    assert len(found) == 1
    expect(found, Code.INVALID_JSON_DESCRIPTION, "/", "line 4, column 2")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", Code.MISSING_DESCRIPTION),
        ("   \n", Code.MISSING_DESCRIPTION),
        ("null", Code.MISSING_DESCRIPTION),
        ('{"StartAt": NaN}', Code.INVALID_JSON_DESCRIPTION),
        ("[" * 100000, Code.INVALID_JSON_DESCRIPTION),
    ],
)
def test_empty_or_broken_text(text: str, code: str) -> None:
    assert [d.code for d in validate_definition_text(text)] == [code]


def test_duplicate_state_names_in_text_are_found() -> None:
    text = """{"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "End": true},
        "A": {"Type": "Pass", "End": true}}}"""
    found = validate_definition_text(text)
    expect(found, Code.DUPLICATE_STATE_NAME, "/States/A", "defined more than once")


def test_duplicate_keys_elsewhere_in_text_are_found() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "End": true}}}'
    found = validate_definition_text(text)
    assert [(d.code, d.location) for d in found] == [
        (Code.INVALID_JSON_DESCRIPTION, "/States/A/End"),
    ]


def test_valid_text_has_no_diagnostics() -> None:
    assert validate_definition_text(json.dumps(machine(A=PASS_END))) == []
