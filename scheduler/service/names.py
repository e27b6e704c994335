"""Names and ARNs as AWS Step Functions accepts them.

Names of state machines, executions and activities are 1-80 characters without
whitespace, brackets, wildcards, `" # % \\ ^ | ~ ` $ & , ; : /` or control characters.
ARNs are `arn:PARTITION:states:REGION:ACCOUNT:TYPE:...`; which types an action accepts
is its business, so parsing and checking are separate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from scheduler.service.errors import InvalidArn, InvalidName, ValidationException

MAX_NAME_LENGTH = 80

#: What AWS refuses in a name: whitespace, brackets, wildcards, specials and controls.
_BAD_NAME_CHARACTERS = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
#: An alias name: letters, digits, `_ - .`, and not only digits (those are versions).
_ALIAS_NAME = re.compile(r"^(?=.*[a-zA-Z_\-.])[a-zA-Z0-9_\-.]+$")
_VERSION = re.compile(r"^[1-9][0-9]{0,8}$")


def length_error(name: str, member: str = "name") -> ValidationException:
    """AWS's constraint message for a name of the wrong length."""
    if not name:
        constraint = "Member must have length greater than or equal to 1"
    else:
        constraint = f"Member must have length less than or equal to {MAX_NAME_LENGTH}"
    return ValidationException(
        f"1 validation error detected: Value '{name}' at '{member}' "
        f"failed to satisfy constraint: {constraint}"
    )


def check_name(name: str) -> None:
    """Refuse a state machine, execution or activity name AWS would refuse."""
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise length_error(name)
    if _BAD_NAME_CHARACTERS.search(name):
        raise InvalidName(f"Invalid Name: '{name}'")


def check_alias_name(name: str) -> None:
    """Refuse an alias name AWS would refuse."""
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise length_error(name)
    if not _ALIAS_NAME.match(name):
        raise InvalidName(f"Invalid Name: '{name}'")


class ArnKind(StrEnum):
    """The resources an ARN can name."""

    STATE_MACHINE = "stateMachine"
    VERSION = "stateMachineVersion"
    ALIAS = "stateMachineAlias"
    EXECUTION = "execution"
    EXPRESS_EXECUTION = "express"
    ACTIVITY = "activity"
    MAP_RUN = "mapRun"


@dataclass(frozen=True, slots=True)
class Arn:
    """A parsed Step Functions ARN."""

    text: str
    kind: ArnKind
    prefix: str
    """`arn:PARTITION:states:REGION:ACCOUNT`."""
    name: str
    """The state machine's name (executions, versions, aliases) or the activity's."""
    qualifier: str | None = None
    """The version number, alias name or execution name."""

    @property
    def machine_arn(self) -> str:
        """The unqualified state machine ARN (for machines, versions, aliases, executions)."""
        return f"{self.prefix}:stateMachine:{self.name}"


def parse_arn(text: str) -> Arn | None:
    """The parsed ARN, or None when `text` is not a Step Functions ARN we know."""
    parts = text.split(":")
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "states" or not all(parts[1:7]):
        return None
    prefix = ":".join(parts[:5])
    resource, rest = parts[5], parts[6:]
    if resource == "stateMachine":
        return _state_machine_arn(text, prefix, rest)
    if resource == "activity" and len(rest) == 1:
        return Arn(text, ArnKind.ACTIVITY, prefix, rest[0])
    if resource == "execution" and len(rest) == 2 and all(rest):
        return Arn(text, ArnKind.EXECUTION, prefix, rest[0], rest[1])
    if resource == "execution" and len(rest) == 3 and all(rest):
        return Arn(text, ArnKind.MAP_RUN, prefix, rest[0], rest[1])
    if resource == "express" and len(rest) == 3 and all(rest):
        return Arn(text, ArnKind.EXPRESS_EXECUTION, prefix, rest[0], rest[1])
    if resource == "mapRun" and len(rest) >= 2 and all(rest):
        # MACHINE/LABEL:ID; the label is the Map state's name, which may hold a colon
        return Arn(text, ArnKind.MAP_RUN, prefix, ":".join(rest[:-1]), rest[-1])
    return None


def _state_machine_arn(text: str, prefix: str, rest: list[str]) -> Arn | None:
    if len(rest) == 1:
        return Arn(text, ArnKind.STATE_MACHINE, prefix, rest[0])
    if len(rest) == 2 and rest[1]:
        if _VERSION.match(rest[1]):
            return Arn(text, ArnKind.VERSION, prefix, rest[0], rest[1])
        return Arn(text, ArnKind.ALIAS, prefix, rest[0], rest[1])
    return None


def expect_arn(text: str, *kinds: ArnKind) -> Arn:
    """Parse `text` as one of `kinds`; InvalidArn otherwise."""
    arn = parse_arn(text)
    if arn is None:
        raise InvalidArn(f"Invalid Arn: '{text}'")
    if arn.kind not in kinds:
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn.kind}'")
    return arn


def check_role_arn(text: str) -> None:
    """A role ARN must at least look like an ARN (AWS: InvalidArn)."""
    parts = text.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[2] or not parts[5]:
        raise InvalidArn(f"Invalid Arn: 'Invalid Role Arn: {text}'")
