"""Compiled definitions, cached: every definition text is validated and compiled once.

Runs name their (sub-)machine by a path from the top level: () for the top level, then
(state name, branch index) per Parallel/Map level down.
"""

from __future__ import annotations

from integrations.resources import ResourceInfo, describe_resource
from scheduler.asl.model import AnyState, MapState, ParallelState, StateMachine, TaskState
from scheduler.asl.parse import load_definition
from scheduler.engine.tokens import is_callback

MachinePath = tuple[str | int, ...]


class MachineCache:
    """Compiled machines, sub-machines and per-state facts, computed once each."""

    def __init__(self, unknown_fields_are_errors: bool = True) -> None:
        self.unknown_fields_are_errors = unknown_fields_are_errors
        self._machines: dict[str, StateMachine] = {}
        self._submachines: dict[tuple[str, MachinePath], StateMachine] = {}
        self._resources: dict[str, ResourceInfo] = {}

    def machine(self, definition: str) -> StateMachine:
        """The compiled machine for a definition text. Raises DefinitionError."""
        machine = self._machines.get(definition)
        if machine is None:
            machine = load_definition(
                definition, unknown_fields_are_errors=self.unknown_fields_are_errors
            )
            self._machines[definition] = machine
        return machine

    def machine_at(self, definition: str, path: MachinePath) -> StateMachine:
        """The sub-machine at `path`: a Parallel branch or a Map's item processor."""
        key = (definition, path)
        found = self._submachines.get(key)
        if found is not None:
            return found
        machine = self.machine(definition)
        for i in range(0, len(path), 2):
            state = machine.states[str(path[i])]
            if isinstance(state, ParallelState):
                machine = state.branches[int(path[i + 1])]
            else:
                assert isinstance(state, MapState) and state.processor is not None
                machine = state.processor
        self._submachines[key] = machine
        return machine

    def uses_context(self, state: AnyState) -> bool:
        """Whether a state reads `$$`, so the context object is built only when needed."""
        return state.uses_context or self.issues_token(state)

    def issues_token(self, state: AnyState) -> bool:
        """Whether a Task gets `$$.Task.Token`: callback tasks and activities."""
        if not isinstance(state, TaskState):
            return False
        resource = state.resource
        return is_callback(resource) or self.resource(resource).resource_type == "activity"

    def resource(self, resource: str) -> ResourceInfo:
        """How history names a Task resource."""
        info = self._resources.get(resource)
        if info is None:
            info = self._resources[resource] = describe_resource(resource)
        return info
