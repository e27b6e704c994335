"""The benchmark workloads: ASL definitions, their inputs and how many states each enters.

Every workload is plain ASL that both Stepline and moto's interpreter accept. The expected
count of states entered is derived from the definition's shape and checked against each
engine's history (its `*StateEntered` events), so both engines are counted the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NOOP_HANDLER = "noop"
NOOP_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{NOOP_HANDLER}"


@dataclass(frozen=True, slots=True)
class Workload:
    """One benchmark: a definition, its input and what it should do."""

    name: str
    """Short identifier used in the table and the JSON results."""
    description: str
    definition: dict[str, Any]
    input_value: Any
    transitions: int
    """States entered by one execution (the unit of throughput)."""
    unit: str = "transitions"
    """What the throughput counts: `transitions`, or `tasks` for the Task chain."""
    units_per_run: int = 0
    """How many `unit`s one execution performs (0: same as `transitions`)."""
    peer: bool = True
    """Whether moto runs it too."""
    expected_output: Any = field(default=None)

    @property
    def work(self) -> int:
        """Units of work in one execution."""
        return self.units_per_run or self.transitions


def _chain(count: int, make_state: Any, prefix: str = "S") -> dict[str, Any]:
    """`count` states {prefix}0.., each leading to the next, the last one ending.

    State names must be unique across the whole machine (Parallel branches included), as
    AWS requires, hence the prefix.
    """
    states: dict[str, Any] = {}
    for i in range(count):
        state = make_state()
        if i + 1 < count:
            state["Next"] = f"{prefix}{i + 1}"
        else:
            state["End"] = True
        states[f"{prefix}{i}"] = state
    return {"StartAt": f"{prefix}0", "States": states}


def _inline_map(item_state: dict[str, Any]) -> dict[str, Any]:
    """An inline Map over `$.items` (no MaxConcurrency) whose iteration is `item_state`."""
    processor = {"StartAt": "Item", "States": {"Item": item_state}}
    return {
        "StartAt": "Map",
        "States": {
            "Map": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **processor},
                "End": True,
            }
        },
    }


def pass_chain(count: int = 200) -> Workload:
    """A chain of `count` Pass states."""
    return Workload(
        name="pass_chain",
        description=f"{count}-state Pass chain",
        definition=_chain(count, lambda: {"Type": "Pass"}),
        input_value={"payload": "x"},
        transitions=count,
        expected_output={"payload": "x"},
    )


def inline_map(items: int = 1000) -> Workload:
    """An inline Map over `items` numbers, each iteration one Pass state."""
    definition = _inline_map({"Type": "Pass", "End": True})
    values = list(range(items))
    return Workload(
        name="inline_map",
        description=f"{items}-item inline Map of Pass",
        definition=definition,
        input_value={"items": values},
        transitions=1 + items,
        expected_output=values,
    )


def parallel(branches: int = 10, depth: int = 10) -> Workload:
    """A Parallel state of `branches` branches, each a chain of `depth` Pass states."""
    branch_list = [_chain(depth, lambda: {"Type": "Pass"}, f"B{b}S") for b in range(branches)]
    definition = {
        "StartAt": "Fan",
        "States": {"Fan": {"Type": "Parallel", "Branches": branch_list, "End": True}},
    }
    return Workload(
        name="parallel",
        description=f"Parallel {branches} branches x {depth} Pass",
        definition=definition,
        input_value={"v": 1},
        transitions=1 + branches * depth,
        expected_output=[{"v": 1}] * branches,
    )


def counting_loop(limit: int = 500) -> Workload:
    """Pass (States.MathAdd) then Choice, looping until the counter reaches `limit`."""
    definition = {
        "StartAt": "Increment",
        "States": {
            "Increment": {
                "Type": "Pass",
                "Parameters": {"i.$": "States.MathAdd($.i, 1)"},
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.i", "NumericLessThan": limit, "Next": "Increment"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    return Workload(
        name="choice_loop",
        description=f"Choice+Pass loop counting to {limit} (States.MathAdd)",
        definition=definition,
        input_value={"i": 0},
        transitions=2 * limit + 1,
        expected_output={"i": limit},
    )


def task_chain(count: int = 50) -> Workload:
    """A chain of `count` Task states, each calling the no-op Python handler."""
    return Workload(
        name="task_chain",
        description=f"{count}-Task chain, no-op Python handler",
        definition=_chain(count, lambda: {"Type": "Task", "Resource": NOOP_ARN}),
        input_value={"payload": "x"},
        transitions=count,
        unit="tasks",
        units_per_run=count,
        peer=False,
        expected_output={"payload": "x"},
    )


def task_map(items: int = 1000) -> Workload:
    """An inline Map over `items` numbers, each iteration one Task calling the no-op handler."""
    definition = _inline_map({"Type": "Task", "Resource": NOOP_ARN, "End": True})
    values = list(range(items))
    return Workload(
        name="task_map",
        description=f"{items}-item inline Map of Task (no-op handler)",
        definition=definition,
        input_value={"items": values},
        transitions=1 + items,
        unit="task items",
        units_per_run=items,
        peer=False,
        expected_output=values,
    )


def short_chain(count: int = 5) -> Workload:
    """A chain of `count` Pass states: the unit of the concurrent-executions benchmark."""
    return Workload(
        name="short_chain",
        description=f"{count}-state Pass chain",
        definition=_chain(count, lambda: {"Type": "Pass"}),
        input_value={"payload": "x"},
        transitions=count,
        unit="executions",
        units_per_run=1,
        peer=False,
        expected_output={"payload": "x"},
    )


def all_workloads() -> list[Workload]:
    """Every workload, in report order."""
    return [pass_chain(), inline_map(), parallel(), counting_loop(), task_chain()]
