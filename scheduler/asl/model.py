"""The typed model of a state machine: frozen dataclasses, one per state type.

Built by `scheduler.asl.parse` from a validated definition, with every path, template,
intrinsic, JSONata expression and choice rule already compiled, so running a state
compiles nothing.

A JSONPath state keeps its data-flow fields in `flow`; a JSONata state has `jsonata` set
(Arguments and Output) and an identity `flow`. Fields that take a literal or a JSONata
expression have a `*_expr` twin (None in JSONPath states and for literals).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from scheduler.asl.choice import ChoiceRule
from scheduler.asl.item_batcher import ItemBatcher
from scheduler.asl.item_reader import ItemReader
from scheduler.asl.jsonata_fields import FieldValue
from scheduler.asl.paths import Path
from scheduler.asl.payload import Evaluator
from scheduler.asl.result_writer import ResultWriter
from scheduler.asl.variables import Assign


class StateType(StrEnum):
    """The `Type` of a state."""

    PASS = "Pass"
    TASK = "Task"
    CHOICE = "Choice"
    WAIT = "Wait"
    SUCCEED = "Succeed"
    FAIL = "Fail"
    PARALLEL = "Parallel"
    MAP = "Map"


class Jitter(StrEnum):
    """A retrier's JitterStrategy."""

    FULL = "FULL"
    NONE = "NONE"


@dataclass(frozen=True, slots=True)
class Retrier:
    """One entry of a state's `Retry`."""

    error_equals: tuple[str, ...]
    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter: Jitter = Jitter.NONE


@dataclass(frozen=True, slots=True)
class Catcher:
    """One entry of a state's `Catch`; `result_path` None means ResultPath: null.

    In a JSONata state `jsonata` is True and `output` (default: `$states.errorOutput`)
    replaces ResultPath.
    """

    error_equals: tuple[str, ...]
    next: str
    result_path: Path | None
    assign: Assign | None = None
    output: FieldValue | None = None
    jsonata: bool = False


@dataclass(frozen=True, slots=True)
class DataFlow:
    """The JSONPath input/output processing fields a state may carry.

    A path of None stands for an explicit `null` (InputPath/OutputPath: `{}`;
    ResultPath: discard the result and keep the input).
    """

    input_path: Path | None
    output_path: Path | None
    result_path: Path | None
    parameters: Evaluator | None = None
    result_selector: Evaluator | None = None


@dataclass(frozen=True, slots=True)
class JsonataFlow:
    """The JSONata input/output fields: `Arguments` (Task, Parallel) and `Output`.

    Without Arguments a Task or Parallel works on the state input; without Output a state
    passes on its result (Task, Parallel, Map) or its input (the others).
    """

    arguments: FieldValue | None = None
    output: FieldValue | None = None


@dataclass(frozen=True, slots=True)
class State:
    """What every state has: its name, type, transition and data-flow fields."""

    name: str
    type: StateType
    next: str | None
    end: bool
    flow: DataFlow
    raw: dict[str, Any] = field(compare=False, repr=False)
    jsonata: JsonataFlow | None = None
    """Set when the state's QueryLanguage is JSONata."""
    assign: Assign | None = None
    uses_context: bool = True
    """Whether any of the state's fields reads the context object (`$$` in JSONPath,
    `$states.context` in JSONata), so the engine builds it only when needed."""


@dataclass(frozen=True, slots=True)
class PassState(State):
    """Pass: output its input, or `Result`, through the data-flow fields."""

    result: Any = None
    has_result: bool = False


@dataclass(frozen=True, slots=True)
class TaskState(State):
    """Task: call `resource` with the effective input."""

    resource: str = ""
    timeout_seconds: int | None = None
    timeout_seconds_path: Path | None = None
    timeout_seconds_expr: FieldValue | None = None
    heartbeat_seconds: int | None = None
    heartbeat_seconds_path: Path | None = None
    heartbeat_seconds_expr: FieldValue | None = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, slots=True)
class ChoiceState(State):
    """Choice: the first rule that matches names the next state, else `Default`."""

    choices: tuple[ChoiceRule, ...] = ()
    default: str | None = None


@dataclass(frozen=True, slots=True)
class WaitState(State):
    """Wait: for a number of seconds or until a timestamp (literal or by path)."""

    seconds: int | None = None
    timestamp: str | None = None
    seconds_path: Path | None = None
    timestamp_path: Path | None = None
    seconds_expr: FieldValue | None = None
    timestamp_expr: FieldValue | None = None


@dataclass(frozen=True, slots=True)
class SucceedState(State):
    """Succeed: end this branch successfully."""


@dataclass(frozen=True, slots=True)
class FailState(State):
    """Fail: end this branch with an error and a cause (literal or by path).

    `error_path`/`cause_path` evaluate ErrorPath/CausePath, or a JSONata Error/Cause.
    """

    error: str | None = None
    cause: str | None = None
    error_path: Evaluator | None = None
    cause_path: Evaluator | None = None


@dataclass(frozen=True, slots=True)
class ParallelState(State):
    """Parallel: run every branch on the same input; the output is their outputs in order."""

    branches: tuple[StateMachine, ...] = ()
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, slots=True)
class MapState(State):
    """Map: run `processor` once per item of the array at `items_path`."""

    processor: StateMachine | None = None
    items_path: Path | None = None
    items: FieldValue | None = None
    """JSONata `Items`: an array (with expressions in it) or one expression."""
    item_selector: Evaluator | None = None
    max_concurrency: int = 0
    max_concurrency_path: Path | None = None
    max_concurrency_expr: FieldValue | None = None
    tolerated_failure_count: int | None = None
    tolerated_failure_count_path: Path | None = None
    tolerated_failure_count_expr: FieldValue | None = None
    tolerated_failure_percentage: float | None = None
    tolerated_failure_percentage_path: Path | None = None
    tolerated_failure_percentage_expr: FieldValue | None = None
    distributed: bool = False
    label: str | None = None
    reader: ItemReader | None = None
    """Distributed: the items come from an ItemReader (S3), not the input."""
    batcher: ItemBatcher | None = None
    writer: ResultWriter | None = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


AnyState = (
    PassState
    | TaskState
    | ChoiceState
    | WaitState
    | SucceedState
    | FailState
    | ParallelState
    | MapState
)


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A (sub-)machine: the top level, a Parallel branch or a Map's item processor."""

    start_at: str
    states: dict[str, AnyState]
    timeout_seconds: int | None = None
    comment: str | None = None
    query_language: str = "JSONPath"
