"""The Redis store: executions, runs, fan-outs, history, timers and the outbox in Redis.

Keys, under a configurable prefix P (default `stepline:`):

    P x:ARN:exec        hash: record (JSON), status, end (JSON), eid, transitions
    P x:ARN:runs        hash: run id -> "seq|last_event_id|entered_event_id|run JSON"
    P x:ARN:events      list: "id|previous_id|event JSON"
    P x:ARN:fans        set: run ids with a fan-out
    P x:ARN:fan:RUN     hash: a fan-out's counters (total, launched, finished, ...)
    P x:ARN:res:RUN     hash: child index -> result JSON
    P def:SHA256        string: a definition text (executions keep theirs)
    P executions        sorted set: ARN by start time
    P machine:ARN       sorted set: a state machine's executions by start time
    P timers            sorted set: message key by due time
    P outbox            sorted set: message key by lease deadline (in flight)
    P tasks             hash: task-call key -> task call JSON (in flight)
    P activity:ARN      list: activity tasks waiting for GetActivityTask

Each step commits with one Lua call (`commit.lua`): compare-and-set on the run's seq,
event ids given out atomically, fan-in counted atomically, timers and in-flight messages
recorded in the same transaction. User payloads pass through Lua as opaque strings.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from importlib import resources
from typing import Any

import redis

from scheduler.asl.retry import error_output
from scheduler.engine.fanin import THRESHOLD_CAUSE
from scheduler.engine.messages import Kind, Message, TaskRequest, key_of, message_key
from scheduler.engine.records import (
    Event,
    ExecutionRecord,
    ExecutionStatus,
    Fanout,
    Run,
    RunStatus,
    StateMachineType,
)
from scheduler.engine.store import ChildReport, ExecutionEnd, StepWrites, apply_end

DEFAULT_PREFIX = "stepline:"
DEFAULT_LEASE_SECONDS = 60.0
_COMPACT = (",", ":")


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is."""
    return json.dumps(value, separators=_COMPACT, ensure_ascii=False)


_FINISH_EXPRESS = """
if redis.call('HGET', KEYS[1], 'status') ~= 'RUNNING' then return 0 end
redis.call('DEL', KEYS[2])
for i = 7, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('HSET', KEYS[1], 'end', ARGV[1], 'status', ARGV[2], 'transitions', ARGV[3],
           'eid', ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('PUBLISH', KEYS[4], ARGV[6])
return 1
"""


def task_json(request: TaskRequest) -> str:
    """A task call as kept in Redis while in flight (the sweep re-sends it from here)."""
    return dumps(asdict(request))


def task_from(stored: str) -> TaskRequest:
    """The task call a `task_json` text holds."""
    return TaskRequest(**json.loads(stored))


def _run_json(run: Run) -> str:
    body = asdict(run)
    for field in ("seq", "last_event_id", "entered_event_id"):
        del body[field]
    return dumps(body)


def _run_from(stored: str) -> Run:
    seq, last, entered, body = stored.split("|", 3)
    data = json.loads(body)
    data["machine"] = tuple(data["machine"])
    data["status"] = RunStatus(data["status"])
    return Run(seq=int(seq), last_event_id=int(last), entered_event_id=int(entered), **data)


def _record_json(record: ExecutionRecord, definition_id: str) -> str:
    return dumps(
        {
            "arn": record.arn,
            "name": record.name,
            "state_machine_arn": record.state_machine_arn,
            "definition_id": definition_id,
            "input": record.input,
            "start_date": record.start_date,
            "type": record.type.value,
            "role_arn": record.role_arn,
            "redrive_count": record.redrive_count,
            "parent_token": record.parent_token,
        }
    )


class RedisStore:
    """Redis implementation of the `Store` contract."""

    concurrent_steps = True
    """Any process may apply steps at any time: every commit is compare-and-set."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = DEFAULT_PREFIX,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        # redis-py's return types are unions of bytes/str/awaitables; with
        # decode_responses=True every reply here is str, so the client is typed loosely.
        self.client: Any = client
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        script = resources.files("scheduler.engine").joinpath("commit.lua").read_text()
        self._commit_script = client.register_script(script)
        self._finish_script = client.register_script(_FINISH_EXPRESS)
        self._definitions: dict[str, str] = {}

    @classmethod
    def from_url(cls, url: str, prefix: str = DEFAULT_PREFIX) -> RedisStore:
        """A store on the Redis at `url` (`redis://host:port/db`)."""
        return cls(redis.Redis.from_url(url, decode_responses=True), prefix)

    # ----- keys --------------------------------------------------------------------------

    def _x(self, arn: str) -> str:
        return f"{self.prefix}x:{arn}:"

    @property
    def timers_key(self) -> str:
        return self.prefix + "timers"

    @property
    def outbox_key(self) -> str:
        return self.prefix + "outbox"

    @property
    def tasks_key(self) -> str:
        return self.prefix + "tasks"

    @property
    def ends_channel(self) -> str:
        """Pub/sub channel: the ARN of every execution that ends, when it ends."""
        return self.prefix + "ends"

    # ----- reads -------------------------------------------------------------------------

    def definition(self, definition_id: str) -> str:
        """A definition text by id (immutable, so cached in this process)."""
        text = self._definitions.get(definition_id)
        if text is None:
            stored = self.client.get(self.prefix + "def:" + definition_id)
            if stored is None:
                raise KeyError(f"definition {definition_id} is missing from Redis")
            text = self._definitions[definition_id] = str(stored)
        return text

    def _record_from(self, fields: dict[str, str]) -> ExecutionRecord | None:
        if not fields or "record" not in fields:
            return None
        data = json.loads(fields["record"])
        record = ExecutionRecord(
            arn=data["arn"],
            name=data["name"],
            state_machine_arn=data["state_machine_arn"],
            definition=self.definition(data["definition_id"]),
            input=data["input"],
            start_date=data["start_date"],
            type=StateMachineType(data["type"]),
            role_arn=data["role_arn"],
            redrive_count=data["redrive_count"],
            parent_token=data.get("parent_token"),
            status=ExecutionStatus(fields["status"]),
            transitions=int(fields.get("transitions", 0)),
        )
        if "end" in fields:
            end = json.loads(fields["end"])
            apply_end(record, ExecutionEnd(**end))
        return record

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        return self._record_from(self.client.hgetall(self._x(arn) + "exec"))

    def load_step(self, arn: str, run_id: str) -> tuple[ExecutionRecord | None, Run | None]:
        """The execution and one of its runs, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self._x(arn) + "exec")
        pipe.hget(self._x(arn) + "runs", run_id)
        fields, stored = pipe.execute()
        record = self._record_from(fields)
        return record, (_run_from(stored) if stored else None)

    def list_executions(
        self,
        state_machine_arn: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[ExecutionRecord]:
        index = self.prefix + (
            f"machine:{state_machine_arn}" if state_machine_arn else "executions"
        )
        arns = [str(a) for a in self.client.zrevrange(index, 0, -1)]
        if status is not None:
            pipe = self.client.pipeline(transaction=False)
            for arn in arns:
                pipe.hget(self._x(arn) + "exec", "status")
            arns = [a for a, s in zip(arns, pipe.execute(), strict=True) if s == status]
        arns = arns[offset : None if limit is None else offset + limit]
        pipe = self.client.pipeline(transaction=False)
        for arn in arns:
            pipe.hgetall(self._x(arn) + "exec")
        return [r for r in (self._record_from(f) for f in pipe.execute()) if r is not None]

    def load_run(self, execution_arn: str, run_id: str) -> Run | None:
        stored = self.client.hget(self._x(execution_arn) + "runs", run_id)
        return _run_from(str(stored)) if stored else None

    def load_runs(self, execution_arn: str) -> list[Run]:
        stored = self.client.hvals(self._x(execution_arn) + "runs")
        return [_run_from(str(text)) for text in stored]

    def load_fanout(self, execution_arn: str, run_id: str) -> Fanout | None:
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self._x(execution_arn) + "fan:" + run_id)
        pipe.hgetall(self._x(execution_arn) + "res:" + run_id)
        fields, results = pipe.execute()
        if not fields:
            return None
        total = int(fields["total"])
        ordered: list[Any] = [None] * total
        for index, blob in results.items():
            ordered[int(index)] = json.loads(blob)
        failure = json.loads(fields["failure"]) if fields.get("failure") else None
        return Fanout(
            kind=fields["kind"],
            total=total,
            first_child=int(fields["first_child"]),
            launched=int(fields["launched"]),
            parent_seq=int(fields["parent_seq"]),
            results=ordered,
            max_failures=int(fields["max_failures"]),
            tolerance_set=fields["tolerance_set"] == "1",
            finished=int(fields["finished"]),
            failed=int(fields["failed"]),
            failure=(failure[0], failure[1]) if failure else None,
            joined=fields["joined"] == "1",
            started_event_id=int(fields["started_event_id"]),
            map_run_arn=fields.get("map_run_arn") or None,
        )

    def event_id_base(self, execution_arn: str) -> int:
        return int(self.client.hget(self._x(execution_arn) + "exec", "eid") or 1)

    def history(self, execution_arn: str) -> list[Event]:
        events = []
        for stored in self.client.lrange(self._x(execution_arn) + "events", 0, -1):
            event_id, previous, body = str(stored).split("|", 2)
            data = json.loads(body)
            events.append(Event(int(event_id), int(previous), data[0], data[1], data[2]))
        return events

    def definition_of(self, execution_arn: str) -> Any:
        record = self.get_execution(execution_arn)
        return None if record is None else record.definition

    # ----- writes ------------------------------------------------------------------------

    def finish_express(self, record: ExecutionRecord, events: list[Event], consumed: str) -> bool:
        """Keep an Express execution's end and history; False if it already ended."""
        prefix = self._x(record.arn)
        end = ExecutionEnd(
            record.status.value, record.stop_date or 0.0, record.output, record.error, record.cause
        )
        lines = [
            f"{e.id}|{e.previous_id}|{dumps([e.timestamp, e.type, e.details])}" for e in events
        ]
        done = self._finish_script(
            keys=[prefix + "exec", prefix + "events", self.outbox_key, self.ends_channel],
            args=[
                dumps(asdict(end)),
                record.status.value,
                record.transitions,
                len(events) + 1,
                consumed,
                record.arn,
                *lines,
            ],
        )
        return bool(done)

    def take_activity_task(self, activity_arn: str, timeout: float) -> str | None:
        popped = self.client.blpop([self.prefix + "activity:" + activity_arn], timeout=timeout)
        return None if popped is None else str(popped[1])

    def _record_text(self, record: ExecutionRecord) -> str:
        definition_id = hashlib.sha256(record.definition.encode()).hexdigest()
        return _record_json(record, definition_id)

    def forget(self, key: str) -> None:
        """Drop an in-flight message that turned out stale (its step had nothing to do)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.zrem(self.outbox_key, key)
        pipe.hdel(self.tasks_key, key)
        pipe.execute()

    def create_execution(self, writes: StepWrites) -> bool:
        record = writes.execution
        definition_id = hashlib.sha256(record.definition.encode()).hexdigest()
        if definition_id not in self._definitions:  # definitions are immutable: once each
            self.client.set(self.prefix + "def:" + definition_id, record.definition)
            self._definitions[definition_id] = record.definition
        produced = self._run_commit(writes, create=_record_json(record, definition_id))
        if produced is None:
            return False
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(self.prefix + "executions", {record.arn: record.start_date})
        pipe.zadd(
            self.prefix + f"machine:{record.state_machine_arn}", {record.arn: record.start_date}
        )
        pipe.execute()
        return True

    def commit(self, writes: StepWrites) -> list[Message] | None:
        return self._run_commit(writes)

    def _run_commit(self, writes: StepWrites, create: str | None = None) -> list[Message] | None:
        arn = writes.execution.arn
        prefix = self._x(arn)
        control = self._control(writes, create)
        keys = [
            prefix + "exec",
            prefix + "runs",
            prefix + "events",
            self.timers_key,
            self.outbox_key,
            prefix + "fans",
            self.tasks_key,
        ]
        produced = self._commit_script(keys=keys, args=[dumps(control), prefix])
        if produced is None:
            return None
        messages = []
        for item in produced:
            run, seq, kind, after = str(item).split("|")
            messages.append(Message(arn, run, int(seq), Kind(kind), {"after": int(after)}))
        return messages

    def _control(self, writes: StepWrites, create: str | None) -> dict[str, Any]:
        arn = writes.execution.arn
        outbox = [key_of(m) for m in writes.messages]
        tasks = [[message_key(arn, t.run, t.seq, "task"), task_json(t)] for t in writes.tasks]
        end = writes.end
        return {
            "create": create is not None,
            "redrive": writes.redrive,
            "keep_root": writes.keep_root,
            "record": create or (self._record_text(writes.execution) if writes.redrive else ""),
            "run": writes.run_id or "",
            "seq": writes.expected_seq if writes.expected_seq is not None else -1,
            "consumed": writes.consumed or "",
            "events": [
                [e.id, e.previous_id, dumps([e.timestamp, e.type, e.details])]
                for e in writes.events
            ],
            "transitions": writes.transitions,
            "runs": [
                [r.id, r.seq, r.last_event_id, r.entered_event_id, _run_json(r)]
                for r in writes.runs.values()
            ],
            "fanouts": [
                [
                    parent,
                    {
                        "kind": f.kind,
                        "total": f.total,
                        "first_child": f.first_child,
                        "launched": f.launched,
                        "parent_seq": f.parent_seq,
                        "max_failures": f.max_failures,
                        "tolerance_set": int(f.tolerance_set),
                        "started_event_id": f.started_event_id,
                        "map_run_arn": f.map_run_arn or "",
                    },
                ]
                for parent, f in writes.fanouts.items()
            ],
            "drop_fanouts": writes.drop_fanouts,
            "drop_children_of": writes.drop_children_of,
            "drop_all": writes.drop_all_runs,
            "end_status": end.status if end else "",
            "ends_channel": self.ends_channel,
            "arn": arn,
            "end_blob": dumps(asdict(end)) if end else "",
            "timers": [[due, key_of(m)] for due, m in writes.timers],
            "activity_tasks": [
                [self.prefix + "activity:" + a, task] for a, task in writes.activity_tasks
            ],
            "outbox": outbox,
            "tasks": tasks,
            "outbox_prefix": arn + "|",
            "lease": time.time() + self.lease_seconds,
            "report": self._report(writes.child_report),
        }

    @staticmethod
    def _report(report: ChildReport | None) -> dict[str, Any] | None:
        if report is None:
            return None
        ids = {"last_state_event": report.last_state_event, "last_event": report.last_event}
        if report.error is None:
            return {
                "parent": report.parent,
                "index": report.index,
                "blob": dumps(report.output),
                "failure": "",
                "threshold": "",
                **ids,
            }
        return {
            "parent": report.parent,
            "index": report.index,
            "blob": dumps(error_output(*report.error)),
            "failure": dumps(list(report.error)),
            "threshold": dumps(["States.ExceedToleratedFailureThreshold", THRESHOLD_CAUSE]),
            **ids,
        }
