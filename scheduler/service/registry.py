"""State machines and their revisions.

A state machine's current configuration is its latest *revision*; every update that
changes something makes a new revision (a new `revisionId`). Revisions are kept after
updates and deletion, so an execution can always say what it started with
(DescribeStateMachineForExecution). Keys, in the `KeyValue` store:

    sm/NAME                  the state machine (its current revision inline)
    rev/NAME/REVISION-ID     every revision
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from scheduler.arns import Account
from scheduler.asl.validate import Diagnostic, validate_definition_text
from scheduler.service.errors import (
    InvalidDefinition,
    MissingRequiredParameter,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
)
from scheduler.service.kv import KeyValue
from scheduler.service.names import Arn, ArnKind, check_name, check_role_arn, expect_arn
from scheduler.service.records import (
    MachineConfig,
    Revision,
    StateMachine,
    from_json,
    to_json,
)

#: Integration patterns an EXPRESS state machine cannot use (AWS refuses them at create).
_EXPRESS_UNSUPPORTED = (".sync", ".sync:2", ".waitForTaskToken")


def machine_key(name: str) -> str:
    return f"sm/{name}"


def revision_key(name: str, revision_id: str) -> str:
    return f"rev/{name}/{revision_id}"


def definition_problems(
    text: str, type_: str, *, unknown_fields_are_errors: bool = True
) -> list[Diagnostic]:
    """Every ERROR the validator finds, plus what an EXPRESS machine may not use."""
    found = validate_definition_text(text, unknown_fields_are_errors=unknown_fields_are_errors)
    errors = [d for d in found if d.severity == "ERROR"]
    if not errors and type_ == "EXPRESS":
        errors = _express_problems(json.loads(text))
    return errors


def _express_problems(definition: Any, location: str = "") -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for key, where, value in _walk(definition, location):
        if key == "Resource" and isinstance(value, str) and value.endswith(_EXPRESS_UNSUPPORTED):
            pattern = value[value.rfind(".") :]
            problems.append(
                Diagnostic(
                    "SCHEMA_VALIDATION_FAILED",
                    where,
                    f"Express state machine does not support '{pattern}' service integration",
                )
            )
    return problems


def _walk(node: Any, location: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{location}/{key}"
            yield key, where, value
            yield from _walk(value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{location}/{index}")


def definition_error(problems: list[Diagnostic]) -> InvalidDefinition:
    """AWS's InvalidDefinition, listing every problem with its location."""
    listed = ", ".join(f"{d.code}: {d.message} at {d.location}" for d in problems)
    return InvalidDefinition(f"Invalid State Machine Definition: '{listed}'")


class Registry:
    """Create, read, update and delete state machines; keep every revision."""

    def __init__(
        self,
        kv: KeyValue,
        account: Account,
        *,
        clock: Callable[[], float] = time.time,
        unknown_fields_are_errors: bool = True,
    ) -> None:
        self.kv = kv
        self.account = account
        self.clock = clock
        self.unknown_fields_are_errors = unknown_fields_are_errors

    # ----- validation -----------------------------------------------------------------------

    def check_definition(self, text: str, type_: str) -> None:
        """Raise InvalidDefinition listing every problem of `text`."""
        problems = definition_problems(
            text, type_, unknown_fields_are_errors=self.unknown_fields_are_errors
        )
        if problems:
            raise definition_error(problems)

    # ----- reading --------------------------------------------------------------------------

    def owns(self, arn: Arn) -> bool:
        """Whether the ARN is in this registry's region and account."""
        return arn.machine_arn == self.account.state_machine(arn.name)

    def find(self, name: str) -> StateMachine | None:
        """The state machine named `name`, or None."""
        data = self.kv.get(machine_key(name))
        return None if data is None else from_json(StateMachine, data)

    def get(self, arn_text: str) -> StateMachine:
        """The state machine with this (unqualified) ARN; StateMachineDoesNotExist if none."""
        arn = expect_arn(arn_text, ArnKind.STATE_MACHINE)
        return self.get_parsed(arn)

    def get_parsed(self, arn: Arn) -> StateMachine:
        """The state machine an ARN (machine, version or alias) belongs to."""
        machine = self.find(arn.name) if self.owns(arn) else None
        if machine is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn.text}'")
        return machine

    def all(self) -> list[StateMachine]:
        """Every state machine, oldest first."""
        machines = [from_json(StateMachine, value) for _, value in self.kv.scan("sm/")]
        return sorted(machines, key=lambda m: (m.creation_date, m.name))

    def revision(self, machine_name: str, revision_id: str) -> Revision | None:
        """A revision of the named machine, or None."""
        data = self.kv.get(revision_key(machine_name, revision_id))
        return None if data is None else from_json(Revision, data)

    # ----- writing --------------------------------------------------------------------------

    def create(self, name: str, config: MachineConfig) -> tuple[StateMachine, bool]:
        """Create a state machine; (machine, created).

        As on AWS, creating one that exists with the same definition, type, logging,
        tracing and encryption returns it unchanged; anything else different is
        StateMachineAlreadyExists.
        """
        check_name(name)
        check_role_arn(config.role_arn)
        self.check_definition(config.definition, config.type)
        now = self.clock()
        arn = self.account.state_machine(name)
        revision = Revision(arn, str(uuid.uuid4()), to_json(config), now)
        machine = StateMachine(name, arn, now, revision.revision_id, to_json(config), now)
        if self.kv.add(machine_key(name), to_json(machine)):
            self.kv.put(revision_key(name, revision.revision_id), to_json(revision))
            return machine, True
        existing = self.find(name)
        if existing is None or not _same_identity(existing.machine_config(), config):
            raise StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'")
        return existing, False

    def update(self, arn_text: str, changes: dict[str, Any]) -> StateMachine:
        """Apply `changes` (MachineConfig fields) and make a new revision if any changed."""
        if not any(value is not None for value in changes.values()):
            raise MissingRequiredParameter(
                "Either the definition, the role ARN, the LoggingConfiguration, the "
                "EncryptionConfiguration or the TracingConfiguration must be specified"
            )
        machine = self.get(arn_text)
        current = machine.machine_config()
        updated = from_json(
            MachineConfig,
            {**to_json(current), **{k: v for k, v in changes.items() if v is not None}},
        )
        if updated.role_arn != current.role_arn:
            check_role_arn(updated.role_arn)
        if updated.definition != current.definition:
            self.check_definition(updated.definition, updated.type)
        if updated == current:
            return machine
        now = self.clock()
        revision = Revision(machine.arn, str(uuid.uuid4()), to_json(updated), now)
        self.kv.put(revision_key(machine.name, revision.revision_id), to_json(revision))
        machine.revision_id = revision.revision_id
        machine.config = to_json(updated)
        machine.update_date = now
        self.kv.put(machine_key(machine.name), to_json(machine))
        return machine

    def delete(self, name: str) -> bool:
        """Remove the state machine (its revisions stay for its executions)."""
        return self.kv.delete(machine_key(name))


def _same_identity(a: MachineConfig, b: MachineConfig) -> bool:
    """AWS's idempotency check for CreateStateMachine (role and tags do not count)."""
    return (a.definition, a.type, a.logging, a.tracing, a.encryption) == (
        b.definition,
        b.type,
        b.logging,
        b.tracing,
        b.encryption,
    )
