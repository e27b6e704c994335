"""Executions: start (by machine, version or alias), describe, list, stop, history.

Starting follows AWS's rules: names are checked, the input must be JSON within the
payload limit, and a name is unique per state machine. Starting again with the same name
and the same input while the first is RUNNING returns the first (idempotency); anything
else is ExecutionAlreadyExists. The engine runs the execution; this module keeps what the
engine does not (which revision, version and alias it started from) under `exec/ARN`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scheduler.arns import Account
from scheduler.engine.engine import InvalidExecutionInput as EngineInputError
from scheduler.engine.history import to_aws_event
from scheduler.engine.records import ExecutionRecord, ExecutionStatus, StateMachineType
from scheduler.service.engines import ExecutionEngine
from scheduler.service.errors import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidExecutionInput,
    InvalidToken,
    ResourceNotFound,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
)
from scheduler.service.kv import KeyValue
from scheduler.service.names import Arn, ArnKind, check_name, expect_arn
from scheduler.service.pagination import DEFAULT_PAGE_SIZE, decode_token, encode_token, page
from scheduler.service.records import (
    ExecutionOrigin,
    MachineConfig,
    StateMachine,
    from_json,
    to_json,
)
from scheduler.service.registry import Registry
from scheduler.service.versions import Versions

#: How long StartSyncExecution waits: an Express execution runs at most five minutes.
SYNC_TIMEOUT_SECONDS = 300.0
_EXECUTION_KINDS = (ArnKind.EXECUTION, ArnKind.EXPRESS_EXECUTION)
_PAYLOAD_KEYS = ("input", "inputDetails", "output", "outputDetails")
#: Executions read from the engine at a time while filling a page of ListExecutions.
_LIST_BATCH = 200

#: A page of ListExecutions: executions with their origins, and the next token.
ExecutionPage = tuple[list[tuple[ExecutionRecord, ExecutionOrigin]], str | None]


@dataclass(frozen=True, slots=True)
class Started:
    """A started execution; `created` is False when an idempotent start found it running."""

    record: ExecutionRecord
    origin: ExecutionOrigin
    created: bool


@dataclass(frozen=True, slots=True)
class ExecutionMachine:
    """The state machine configuration an execution started with."""

    machine_arn: str
    name: str
    config: MachineConfig
    update_date: float
    revision_id: str | None


@dataclass(frozen=True, slots=True)
class _Target:
    machine: StateMachine
    revision_id: str
    config: MachineConfig
    version_arn: str | None
    alias_arn: str | None


def canonical_json(value: Any) -> str:
    """One text per JSON value, so inputs compare as values (key order does not count)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Executions:
    """Execution actions over an engine and the state machine registry."""

    def __init__(
        self,
        engine: ExecutionEngine,
        registry: Registry,
        versions: Versions,
        kv: KeyValue,
        account: Account,
        *,
        max_payload_bytes: int = 256 * 1024,
        express_history: bool = True,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.versions = versions
        self.kv = kv
        self.account = account
        self.max_payload_bytes = max_payload_bytes
        self.express_history = express_history
        """False: Express executions are not described, listed or stopped, as on AWS."""
        self.readable = _EXECUTION_KINDS if express_history else (ArnKind.EXECUTION,)
        """The ARN kinds DescribeExecution, GetExecutionHistory and StopExecution take."""

    # ----- starting -------------------------------------------------------------------------

    def start(
        self,
        machine_arn: str,
        name: str | None = None,
        input_text: str | None = None,
        trace_header: str | None = None,
        *,
        sync: bool = False,
        parent_token: str | None = None,
    ) -> Started:
        """StartExecution (or, with `sync`, the start of StartSyncExecution); `parent_token`:
        the `.sync` Task of a parent execution that waits for this one to end."""
        target = self._target(machine_arn)
        type_ = StateMachineType(target.config.type)
        if sync and type_ != StateMachineType.EXPRESS:
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine: "
                f"'{target.machine.arn}' is STANDARD"
            )
        name = str(uuid.uuid4()) if name is None else name
        check_name(name)
        value = self.parse_input(input_text)
        if type_ == StateMachineType.EXPRESS:
            arn = self.account.express_execution(target.machine.name, name, str(uuid.uuid4()))
        else:
            arn = self.account.execution(target.machine.name, name)
        origin = ExecutionOrigin(
            arn,
            target.machine.arn,
            target.revision_id,
            target.version_arn,
            target.alias_arn,
            trace_header,
        )
        try:
            record = self.engine.start_execution(
                arn=arn,
                name=name,
                state_machine_arn=target.machine.arn,
                definition=target.config.definition,
                input_value=value,
                role_arn=target.config.role_arn,
                type_=type_,
                parent_token=parent_token,
            )
        except EngineInputError as exc:
            raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from exc
        if record is None:
            return self._already_started(arn, value)
        if type_ != StateMachineType.EXPRESS or self.express_history:
            # An Express execution kept without history is never described: no origin.
            self.kv.put(f"exec/{arn}", to_json(origin))
        return Started(record, origin, True)

    def _already_started(self, arn: str, value: Any) -> Started:
        existing = self.engine.get_execution(arn)
        if (
            existing is None
            or existing.status != ExecutionStatus.RUNNING
            or canonical_json(existing.input) != canonical_json(value)
        ):
            raise ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")
        origin = self.origin(existing)
        return Started(existing, origin, False)

    def start_sync(
        self,
        machine_arn: str,
        name: str | None = None,
        input_text: str | None = None,
        trace_header: str | None = None,
        *,
        timeout: float = SYNC_TIMEOUT_SECONDS,
    ) -> tuple[ExecutionRecord, ExecutionOrigin]:
        """StartSyncExecution: run an EXPRESS execution to its end and return its record."""
        started = self.start(machine_arn, name, input_text, trace_header, sync=True)
        final = self.engine.wait(started.record.arn, timeout)
        if final is None or final.status == ExecutionStatus.RUNNING:
            stopped = self.engine.stop_execution(
                started.record.arn, "States.Timeout", "The execution ran past its time limit."
            )
            final = stopped or started.record
            final.status = ExecutionStatus.TIMED_OUT
        return final, started.origin

    def parse_input(self, text: str | None) -> Any:
        """The execution input as a JSON value; InvalidExecutionInput if it is not one."""
        if text is None:
            return {}
        size = len(text.encode("utf-8"))
        if size > self.max_payload_bytes:
            raise InvalidExecutionInput(
                f"Invalid State Machine Execution Input: 'The input is {size} bytes, over "
                f"the maximum of {self.max_payload_bytes} bytes'"
            )
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise InvalidExecutionInput(
                f"Invalid State Machine Execution Input: '{exc.msg} "
                f"at line {exc.lineno} column {exc.colno}'"
            ) from exc
        except ValueError as exc:
            raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from exc

    def _target(self, arn_text: str) -> _Target:
        """The machine, revision, version and alias a start ARN resolves to."""
        arn = expect_arn(arn_text, ArnKind.STATE_MACHINE, ArnKind.VERSION, ArnKind.ALIAS)
        machine = self.registry.get_parsed(arn)
        if arn.kind == ArnKind.STATE_MACHINE:
            return _Target(machine, machine.revision_id, machine.machine_config(), None, None)
        alias_arn = None
        version_arn: Arn = arn
        if arn.kind == ArnKind.ALIAS:
            try:
                alias = self.versions.resolve_alias(arn)
            except ResourceNotFound as exc:
                raise StateMachineDoesNotExist(
                    f"State Machine Does Not Exist: '{arn.text}'"
                ) from exc
            alias_arn = alias.arn
            version_arn = expect_arn(self.versions.route(alias), ArnKind.VERSION)
        version = self.versions.get(version_arn)
        revision = self.registry.revision(machine.name, version.revision_id)
        if revision is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn.text}'")
        return _Target(
            machine, revision.revision_id, revision.machine_config(), version.arn, alias_arn
        )

    # ----- reading --------------------------------------------------------------------------

    def describe(self, arn_text: str) -> tuple[ExecutionRecord, ExecutionOrigin]:
        """The execution and what it started from; ExecutionDoesNotExist if there is none
        (InvalidArn for an Express ARN when Express executions are not kept, as on AWS)."""
        expect_arn(arn_text, *self.readable)
        record = self.engine.get_execution(arn_text)
        if record is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn_text}'")
        return record, self.origin(record)

    def origin(self, record: ExecutionRecord) -> ExecutionOrigin:
        """What `record` started from (its unqualified machine when nothing was kept)."""
        data = self.kv.get(f"exec/{record.arn}")
        if data is not None:
            return from_json(ExecutionOrigin, data)
        return ExecutionOrigin(record.arn, record.state_machine_arn, "")

    def machine_for(self, arn_text: str) -> ExecutionMachine:
        """DescribeStateMachineForExecution: the configuration the execution runs."""
        record, origin = self.describe(arn_text)
        name = record.state_machine_arn.rsplit(":", 1)[-1]
        revision = self.registry.revision(name, origin.revision_id) if origin.revision_id else None
        if revision is None:
            config = MachineConfig(record.definition, record.role_arn, record.type.value)
            return ExecutionMachine(record.state_machine_arn, name, config, record.start_date, None)
        return ExecutionMachine(
            record.state_machine_arn,
            name,
            revision.machine_config(),
            revision.update_date,
            revision.revision_id,
        )

    def list_executions(
        self,
        machine_arn: str,
        *,
        status: str | None = None,
        redrive_filter: str | None = None,
        max_results: int | None = None,
        token: str | None = None,
    ) -> ExecutionPage:
        """ListExecutions of a machine, version or alias: newest first, paged.

        Pages are read from the engine in batches (only as many records as the page
        needs), and the token keeps the last execution handed out and where it stood.
        """
        arn = expect_arn(machine_arn, ArnKind.STATE_MACHINE, ArnKind.VERSION, ArnKind.ALIAS)
        machine = self.registry.get_parsed(arn)
        if not self.express_history and machine.machine_config().type == "EXPRESS":
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine"
            )
        if arn.kind == ArnKind.VERSION:
            self.versions.get(arn)
        elif arn.kind == ArnKind.ALIAS:
            self.versions.resolve_alias(arn)

        def keep(record: ExecutionRecord) -> bool:
            if status is not None and record.status != status:
                return False
            if redrive_filter == "REDRIVEN" and record.redrive_count == 0:
                return False
            if arn.kind == ArnKind.VERSION:
                return self.origin(record).version_arn == arn.text
            if arn.kind == ArnKind.ALIAS:
                return self.origin(record).alias_arn == arn.text
            return True

        scope = f"executions:{machine_arn}:{status}:{redrive_filter}"
        cursor = None if token is None else _cursor(decode_token(token, scope), token)
        size = max_results or DEFAULT_PAGE_SIZE
        chosen: list[tuple[int, ExecutionRecord]] = []
        more = False
        for position, record in self._after(machine.arn, cursor):
            if keep(record):
                if len(chosen) == size:
                    more = True
                    break
                chosen.append((position, record))
        next_token = None
        if more:
            position, last = chosen[-1]
            next_token = encode_token(scope, [last.start_date, last.arn, position + 1])
        return [(r, self.origin(r)) for _, r in chosen], next_token

    def _records(self, machine_arn: str, offset: int) -> Iterator[tuple[int, ExecutionRecord]]:
        """The machine's executions from `offset` on, newest first, with their positions."""
        while True:
            batch = self.engine.list_executions(machine_arn, offset, _LIST_BATCH)
            for index, record in enumerate(batch):
                yield offset + index, record
            if len(batch) < _LIST_BATCH:
                return
            offset += len(batch)

    def _after(
        self, machine_arn: str, cursor: _Cursor | None
    ) -> Iterator[tuple[int, ExecutionRecord]]:
        """The executions after the last one a page handed out.

        Executions are never removed and new ones come first, so the last one handed out
        is at or after where it stood: look for it from there. Should it be gone, fall
        back on its start date.
        """
        if cursor is None:
            yield from self._records(machine_arn, 0)
            return
        records = self._records(machine_arn, max(0, cursor.position - 1))
        for _, record in records:
            if record.arn == cursor.arn:
                yield from records
                return
        for position, record in self._records(machine_arn, 0):
            if (record.start_date, record.arn) < (cursor.start_date, cursor.arn):
                yield position, record

    def history(
        self,
        arn_text: str,
        *,
        reverse: bool = False,
        include_data: bool = True,
        max_results: int | None = None,
        token: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """GetExecutionHistory: AWS-shaped events, oldest (or newest) first, paged."""
        self.describe(arn_text)
        events = self.engine.history(arn_text)
        if reverse:
            events.reverse()
        chosen, next_token = page(
            events,
            lambda e: [e.id],
            scope=f"history:{arn_text}:{reverse}",
            max_results=max_results,
            token=token,
            descending=reverse,
        )
        rendered = [to_aws_event(event) for event in chosen]
        if not include_data:
            for entry in rendered:
                for key, value in entry.items():
                    if key.endswith("EventDetails") and isinstance(value, dict):
                        for payload in _PAYLOAD_KEYS:
                            value.pop(payload, None)
        return rendered, next_token

    # ----- stopping -------------------------------------------------------------------------

    def stop(self, arn_text: str, error: str | None, cause: str | None) -> ExecutionRecord:
        """StopExecution: abort a running execution (a closed one is left as it is)."""
        expect_arn(arn_text, *self.readable)
        record = self.engine.stop_execution(arn_text, error, cause)
        if record is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn_text}'")
        return record


@dataclass(frozen=True, slots=True)
class _Cursor:
    """Where a page of ListExecutions ended: its last execution and that one's position."""

    start_date: float
    arn: str
    position: int


def _cursor(key: list[Any], token: str) -> _Cursor:
    match key:
        case [int() | float() as start_date, str() as arn, int() as position]:
            return _Cursor(float(start_date), arn, position)
    raise InvalidToken(f"Invalid Token: '{token}'")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")
