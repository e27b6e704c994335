"""The Step Functions service: every action the API serves, engine-agnostic.

`StepFunctions` holds the parts (registry, versions and aliases, activities, tags,
executions) and does the actions that span several of them: creating a machine with its
tags and first version, deleting a machine with its versions and aliases, tagging any
taggable resource. `build_service` wires it over an engine and a key-value store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scheduler.arns import Account
from scheduler.service.activities import Activities
from scheduler.service.engines import ExecutionEngine
from scheduler.service.errors import ResourceNotFound, ValidationException
from scheduler.service.executions import Executions
from scheduler.service.kv import KeyValue, MemoryKV
from scheduler.service.map_runs import MapRuns
from scheduler.service.names import ArnKind, expect_arn
from scheduler.service.records import MachineConfig, StateMachine, Version
from scheduler.service.registry import Registry
from scheduler.service.tags import Tags
from scheduler.service.versions import Versions


@dataclass
class StepFunctions:
    """The service the API calls."""

    account: Account
    engine: ExecutionEngine
    registry: Registry
    versions: Versions
    activities: Activities
    tags: Tags
    executions: Executions
    map_runs: MapRuns

    # ----- state machines -------------------------------------------------------------------

    def create_state_machine(
        self,
        name: str,
        config: MachineConfig,
        *,
        tags: dict[str, str] | None = None,
        publish: bool = False,
        version_description: str | None = None,
    ) -> tuple[StateMachine, Version | None]:
        """CreateStateMachine: the machine and, with `publish`, its first version."""
        _check_version_description(publish, version_description)
        machine, created = self.registry.create(name, config)
        if created and tags:
            self.tags.add(machine.arn, tags)
        version = self.versions.publish(machine, version_description) if publish else None
        return machine, version

    def update_state_machine(
        self,
        arn: str,
        changes: dict[str, Any],
        *,
        publish: bool = False,
        version_description: str | None = None,
    ) -> tuple[StateMachine, Version | None]:
        """UpdateStateMachine: a new revision and, with `publish`, a version of it."""
        _check_version_description(publish, version_description)
        machine = self.registry.update(arn, changes)
        version = self.versions.publish(machine, version_description) if publish else None
        return machine, version

    def delete_state_machine(self, arn_text: str) -> None:
        """DeleteStateMachine: the machine, its versions, aliases and tags (idempotent).

        Its executions keep running: each carries the definition it started with.
        """
        arn = expect_arn(arn_text, ArnKind.STATE_MACHINE, ArnKind.VERSION, ArnKind.ALIAS)
        if arn.kind != ArnKind.STATE_MACHINE:
            raise ValidationException(
                "Service does not support qualified state machine ARNs for DeleteStateMachine;"
                " use DeleteStateMachineVersion or DeleteStateMachineAlias"
            )
        if not self.registry.owns(arn) or self.registry.find(arn.name) is None:
            return
        self.versions.drop_all(arn.name)
        self.tags.drop(arn.text)
        self.registry.delete(arn.name)

    # ----- tags -----------------------------------------------------------------------------

    def _taggable(self, arn_text: str) -> str:
        """The ARN of an existing state machine or activity; ResourceNotFound otherwise."""
        arn = expect_arn(arn_text, ArnKind.STATE_MACHINE, ArnKind.ACTIVITY)
        if arn.kind == ArnKind.ACTIVITY:
            exists = self.activities.find_parsed(arn) is not None
        else:
            exists = self.registry.owns(arn) and self.registry.find(arn.name) is not None
        if not exists:
            raise ResourceNotFound(f"Resource not found: '{arn_text}'")
        return arn.text

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        self.tags.add(self._taggable(arn), tags)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        self.tags.remove(self._taggable(arn), keys)

    def list_tags(self, arn: str) -> dict[str, str]:
        return self.tags.of(self._taggable(arn))

    # ----- activities -----------------------------------------------------------------------

    def delete_activity(self, arn: str) -> None:
        """DeleteActivity: the activity and its tags (idempotent)."""
        self.activities.delete(arn)
        self.tags.drop(arn)


def _check_version_description(publish: bool, description: str | None) -> None:
    if description is not None and not publish:
        raise ValidationException("Version description can only be set when publish is true")


def build_service(
    engine: ExecutionEngine,
    kv: KeyValue | None = None,
    *,
    account: Account | None = None,
    clock: Callable[[], float] = time.time,
    max_payload_bytes: int = 256 * 1024,
    unknown_fields_are_errors: bool = True,
    express_history: bool = True,
) -> StepFunctions:
    """The service over `engine`, keeping its registry in `kv` (memory by default)."""
    kv = kv if kv is not None else MemoryKV()
    account = account or Account()
    registry = Registry(
        kv, account, clock=clock, unknown_fields_are_errors=unknown_fields_are_errors
    )
    versions = Versions(registry)

    def forget_origin(arn: str) -> None:
        kv.delete(f"exec/{arn}")  # what Executions.start kept beside the execution

    engine.on_forget(forget_origin)
    return StepFunctions(
        account=account,
        engine=engine,
        registry=registry,
        versions=versions,
        activities=Activities(kv, account, clock=clock),
        tags=Tags(kv),
        executions=Executions(
            engine,
            registry,
            versions,
            kv,
            account,
            max_payload_bytes=max_payload_bytes,
            express_history=express_history,
        ),
        map_runs=MapRuns(engine),
    )
