"""State machine versions and aliases.

A version is a published, immutable revision, numbered from 1 and never renumbered
(numbers of deleted versions are not reused). An alias routes executions to one version,
or splits them between two by weight. Keys, in the `KeyValue` store:

    ver/NAME/000000001       versions (zero-padded so they scan in order)
    vercount/NAME            the last version number handed out
    alias/NAME/ALIAS         aliases
"""

from __future__ import annotations

import random as random_module
from collections.abc import Callable
from typing import Any

from scheduler.service.errors import (
    ConflictException,
    ResourceNotFound,
    ServiceQuotaExceeded,
    StateMachineDoesNotExist,
    ValidationException,
)
from scheduler.service.names import Arn, ArnKind, check_alias_name, expect_arn
from scheduler.service.records import Alias, StateMachine, Version, from_json, to_json
from scheduler.service.registry import Registry

MAX_VERSIONS = 1000
MAX_ALIASES = 100


def version_key(name: str, number: int) -> str:
    return f"ver/{name}/{number:09d}"


def alias_key(name: str, alias: str) -> str:
    return f"alias/{name}/{alias}"


class Versions:
    """Publish, list, describe and delete versions; manage aliases."""

    def __init__(
        self, registry: Registry, *, random: Callable[[], float] = random_module.random
    ) -> None:
        self.registry = registry
        self.kv = registry.kv
        self.random = random

    # ----- versions -------------------------------------------------------------------------

    def publish(
        self, machine: StateMachine, description: str | None, revision_id: str | None = None
    ) -> Version:
        """Publish the machine's current revision (the latest version if already published)."""
        if revision_id is not None and revision_id != machine.revision_id:
            raise ConflictException(
                f"Failed to publish the State Machine version for revision {revision_id}. "
                f"The current State Machine revision is {machine.revision_id}."
            )
        versions = self.all(machine.name)
        latest = versions[0] if versions else None
        if latest is not None and latest.revision_id == machine.revision_id:
            if description is not None and description != latest.description:
                raise ConflictException(
                    f"Failed to publish the State Machine version: revision "
                    f"{machine.revision_id} is already published as version {latest.number} "
                    "with a different description."
                )
            return latest
        if len(versions) >= MAX_VERSIONS:
            raise ServiceQuotaExceeded(
                f"A state machine can have at most {MAX_VERSIONS} versions; "
                "delete some before publishing more."
            )
        number = self.kv.incr(f"vercount/{machine.name}")
        version = Version(
            machine.arn,
            f"{machine.arn}:{number}",
            number,
            machine.revision_id,
            description,
            self.registry.clock(),
        )
        self.kv.put(version_key(machine.name, number), to_json(version))
        return version

    def all(self, machine_name: str) -> list[Version]:
        """The machine's versions, newest first."""
        found = self.kv.scan(f"ver/{machine_name}/")
        return [from_json(Version, value) for _, value in reversed(found)]

    def find(self, arn: Arn) -> Version | None:
        """The version a version ARN names, or None."""
        if arn.kind != ArnKind.VERSION or not self.registry.owns(arn) or arn.qualifier is None:
            return None
        data = self.kv.get(version_key(arn.name, int(arn.qualifier)))
        return None if data is None else from_json(Version, data)

    def get(self, arn: Arn) -> Version:
        """The version a version ARN names; StateMachineDoesNotExist when there is none."""
        version = self.find(arn)
        if version is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn.text}'")
        return version

    def delete(self, arn_text: str) -> None:
        """Delete a version (nothing if it does not exist); refused while an alias uses it."""
        arn = expect_arn(arn_text, ArnKind.VERSION)
        users = [
            alias.arn
            for alias in self.aliases(arn.name)
            if any(r["stateMachineVersionArn"] == arn.text for r in alias.routing)
        ]
        if users:
            raise ConflictException(
                "Version to be deleted must not be referenced by an alias. "
                f"Current list of aliases referencing this version: {users}"
            )
        if arn.qualifier is not None and self.registry.owns(arn):
            self.kv.delete(version_key(arn.name, int(arn.qualifier)))

    def drop_all(self, machine_name: str) -> None:
        """Delete every version and alias of a machine (it is being deleted)."""
        for prefix in (f"ver/{machine_name}/", f"alias/{machine_name}/"):
            for key, _ in self.kv.scan(prefix):
                self.kv.delete(key)
        self.kv.delete(f"vercount/{machine_name}")

    # ----- aliases --------------------------------------------------------------------------

    def create_alias(
        self, name: str, description: str | None, routing: list[dict[str, Any]]
    ) -> Alias:
        """Create an alias; the same request again returns it (AWS's idempotency)."""
        check_alias_name(name)
        machine = self._check_routing(routing)
        now = self.registry.clock()
        alias = Alias(
            machine.arn, f"{machine.arn}:{name}", name, description, routing, now, now
        )
        if len(self.aliases(machine.name)) >= MAX_ALIASES:
            raise ServiceQuotaExceeded(
                f"A state machine can have at most {MAX_ALIASES} aliases."
            )
        if self.kv.add(alias_key(machine.name, name), to_json(alias)):
            return alias
        existing = self.get_alias(alias.arn)
        if (existing.description, existing.routing) != (description, routing):
            raise ConflictException(
                f"Failed to create alias because an alias with the same name and a "
                f"different configuration already exists: '{alias.arn}'"
            )
        return existing

    def get_alias(self, arn_text: str) -> Alias:
        """The alias; ResourceNotFound when there is none."""
        arn = expect_arn(arn_text, ArnKind.ALIAS)
        return self.resolve_alias(arn)

    def resolve_alias(self, arn: Arn) -> Alias:
        data = None
        if self.registry.owns(arn) and arn.qualifier is not None:
            data = self.kv.get(alias_key(arn.name, arn.qualifier))
        if data is None:
            raise ResourceNotFound(f"Resource not found: '{arn.text}'")
        return from_json(Alias, data)

    def update_alias(
        self, arn_text: str, description: str | None, routing: list[dict[str, Any]] | None
    ) -> Alias:
        """Change an alias's description and/or routing."""
        if description is None and routing is None:
            raise ValidationException(
                "Either the description or the routingConfiguration must be specified"
            )
        alias = self.get_alias(arn_text)
        if routing is not None:
            machine = self._check_routing(routing)
            if machine.arn != alias.machine_arn:
                raise ValidationException(
                    "The routing configuration must only name versions of "
                    f"'{alias.machine_arn}'"
                )
            alias.routing = routing
        if description is not None:
            alias.description = description
        alias.update_date = self.registry.clock()
        self.kv.put(alias_key(alias.machine_arn.rsplit(":", 1)[1], alias.name), to_json(alias))
        return alias

    def delete_alias(self, arn_text: str) -> None:
        alias = self.get_alias(arn_text)
        self.kv.delete(alias_key(alias.machine_arn.rsplit(":", 1)[1], alias.name))

    def aliases(self, machine_name: str) -> list[Alias]:
        """The machine's aliases, oldest first."""
        found = [from_json(Alias, value) for _, value in self.kv.scan(f"alias/{machine_name}/")]
        return sorted(found, key=lambda a: (a.creation_date, a.name))

    def route(self, alias: Alias) -> str:
        """The version ARN an execution started through `alias` runs, chosen by weight."""
        draw = self.random() * 100
        for entry in alias.routing:
            draw -= entry["weight"]
            if draw < 0:
                return str(entry["stateMachineVersionArn"])
        return str(alias.routing[-1]["stateMachineVersionArn"])

    def _check_routing(self, routing: list[dict[str, Any]]) -> StateMachine:
        """The machine every routed version belongs to; refuse a bad routing."""
        if not 1 <= len(routing) <= 2:
            raise ValidationException("The routing configuration must name one or two versions")
        arns = [expect_arn(str(r.get("stateMachineVersionArn")), ArnKind.VERSION) for r in routing]
        if len({a.text for a in arns}) != len(arns):
            raise ValidationException(
                "Routing configuration must contain distinct state machine version ARNs"
            )
        if len({a.machine_arn for a in arns}) != 1:
            raise ValidationException(
                "All versions in the routing configuration must belong to the same state machine"
            )
        if sum(int(r.get("weight", -1)) for r in routing) != 100:
            raise ValidationException("Sum of routing configuration weights must be equal to 100")
        try:
            machine = self.registry.get_parsed(arns[0])
        except StateMachineDoesNotExist as exc:
            raise ResourceNotFound(f"Resource not found: '{arns[0].machine_arn}'") from exc
        for arn in arns:
            if self.find(arn) is None:
                raise ResourceNotFound(f"Resource not found: '{arn.text}'")
        return machine
