"""The Redis store: executions, runs, fan-outs, history, timers and the outbox in Redis.

Keys, under a configurable prefix P (default `stepline:`):

    P x:ARN:exec        hash: record (JSON), status, end (JSON), eid, transitions
    P x:ARN:runs        hash: run id -> "seq|last_event_id|entered_event_id|run JSON"
    P x:ARN:events      list: "id|previous_id|event JSON"
    P x:ARN:fans        set: run ids with a fan-out
    P x:ARN:fan:RUN     hash: a fan-out's counters (total, launched, finished, ...)
    P x:ARN:res:RUN     hash: child index -> result JSON
    P x:ARN:mrs         list: the execution's map run ARNs, oldest first
    P x:ARN:mr:MAPRUN   hash: a map run's record (JSON), limits, status and, once it
                        ended, stop date and counters (while it runs: its fan-out's)
    P mapruns           hash: map run ARN -> execution ARN
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
import math
import time
from dataclasses import fields as dataclass_fields
from importlib import resources
from typing import Any

import redis

from scheduler.asl.retry import error_output
from scheduler.engine.fanin import THRESHOLD_CAUSE
from scheduler.engine.map_runs import MapRunLimits
from scheduler.engine.messages import Kind, Message, TaskRequest, key_of, message_key
from scheduler.engine.records import (
    Event,
    ExecutionRecord,
    ExecutionStatus,
    Fanout,
    MapRun,
    MapRunStatus,
    Run,
    RunStatus,
    StateMachineType,
    shallow_dict,
)
from scheduler.engine.store import ChildReport, ExecutionEnd, StepWrites, apply_end

DEFAULT_PREFIX = "stepline:"
DEFAULT_LEASE_SECONDS = 60.0
CONNECT_SECONDS = 5.0
_COMPACT = (",", ":")


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is."""
    return json.dumps(value, separators=_COMPACT, ensure_ascii=False)


_FINISH_EXPRESS = """
if redis.call('HGET', KEYS[1], 'status') ~= 'RUNNING' then return 0 end
redis.call('DEL', KEYS[2])
for i = 8, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('HSET', KEYS[1], 'end', ARGV[1], 'status', ARGV[2], 'transitions', ARGV[3],
           'eid', ARGV[4])
if ARGV[7] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[7]) end
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('PUBLISH', KEYS[4], ARGV[6])
return 1
"""


#: UpdateMapRun on a running map run, atomically with its fan-in (the rules of
#: scheduler/engine/map_runs.py apply_limits). KEYS: map run hash, fan-out hash, outbox.
_UPDATE_MAP_RUN = """
local c = cjson.decode(ARGV[1])
if redis.call('HGET', KEYS[1], 'status') ~= 'RUNNING' then return nil end
local fan = redis.call('HMGET', KEYS[2], 'joined', 'map_run_arn', 'total', 'first_child',
                       'launched', 'finished', 'failed', 'parent_seq', 'started_event_id')
if fan[1] ~= '0' or fan[2] ~= c.map_run then return nil end
local total, first_child = tonumber(fan[3]), tonumber(fan[4])
local launched, finished, failed = tonumber(fan[5]), tonumber(fan[6]), tonumber(fan[7])
local produced = {}
if c.max_concurrency ~= '' then
  redis.call('HSET', KEYS[1], 'max_concurrency', c.max_concurrency)
  redis.call('HSET', KEYS[2], 'max_concurrency', c.max_concurrency)
end
if c.tol_count ~= '' then redis.call('HSET', KEYS[1], 'tol_count', c.tol_count) end
if c.tol_pct ~= '' then redis.call('HSET', KEYS[1], 'tol_pct', c.tol_pct) end
if c.tol_count ~= '' or c.tol_pct ~= '' then
  local t = redis.call('HMGET', KEYS[1], 'tol_count', 'tol_pct')
  local allowed = math.max(tonumber(t[1]), math.floor(math.floor(tonumber(t[2]) * total) / 100))
  redis.call('HSET', KEYS[2], 'max_failures', allowed, 'tolerance_set', 1)
  if failed > allowed then
    redis.call('HSET', KEYS[2], 'failure', c.threshold, 'joined', 1)
    table.insert(produced, c.run .. '|' .. fan[8] .. '|join|' .. fan[9])
  end
end
if #produced == 0 then
  local limit = tonumber(redis.call('HGET', KEYS[2], 'max_concurrency') or '')
  local before = launched
  while limit and launched < total and (limit <= 0 or launched - finished < limit) do
    table.insert(produced, c.run .. '.' .. (first_child + launched) .. '|0|enter|' .. fan[9])
    launched = launched + 1
  end
  if launched > before then redis.call('HSET', KEYS[2], 'launched', launched) end
end
for _, m in ipairs(produced) do
  local run, seq, kind = string.match(m, '^(.-)|(%-?%d+)|(%a+)')
  redis.call('ZADD', KEYS[3], c.lease, c.outbox_prefix .. run .. '|' .. seq .. '|' .. kind)
end
return produced
"""


def _seconds(value: float | None) -> str:
    """A key's time to live as EXPIRE takes it (whole seconds), or "" for none."""
    return "" if value is None else str(math.ceil(value))


def task_json(request: TaskRequest) -> str:
    """A task call as kept in Redis while in flight (the sweep re-sends it from here)."""
    return dumps(shallow_dict(request))


def task_from(stored: str) -> TaskRequest:
    """The task call a `task_json` text holds."""
    return TaskRequest(**json.loads(stored))


_PLAIN = ("seq", "last_event_id", "entered_event_id")
_RUN_BODY = tuple(f.name for f in dataclass_fields(Run) if f.name not in _PLAIN)


def _run_json(run: Run) -> str:
    """A run's fields but the three kept in plain text before it."""
    return dumps({name: getattr(run, name) for name in _RUN_BODY})


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


def redis_client(url: str) -> redis.Redis:
    """A client for the store: replies as str; a Redis that does not answer a connect
    within 5 s is an error, not a hang; idle connections are checked before reuse (a
    restarted Redis is reconnected to). Reads have no timeout: GetActivityTask's BLPOP
    legitimately waits up to a minute."""
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=CONNECT_SECONDS,
        socket_keepalive=True,
        health_check_interval=30,
    )


_COUNTERS = ("launched", "finished", "failed")


def _map_run_fields(map_run: MapRun) -> dict[str, str]:
    """A new map run as commit.lua writes it (numbers as text: Lua keeps them exact)."""
    record = {
        "arn": map_run.arn,
        "execution_arn": map_run.execution_arn,
        "state_machine_arn": map_run.state_machine_arn,
        "run_id": map_run.run_id,
        "start_date": map_run.start_date,
        "total": map_run.total,
    }
    return {
        "arn": map_run.arn,
        "record": dumps(record),
        "max_concurrency": str(map_run.max_concurrency),
        "tol_count": str(map_run.tolerated_failure_count),
        "tol_pct": repr(map_run.tolerated_failure_percentage),
    }


def _map_run_from(fields: dict[str, str]) -> MapRun:
    map_run = MapRun(
        **json.loads(fields["record"]),
        max_concurrency=int(fields["max_concurrency"]),
        tolerated_failure_count=int(fields["tol_count"]),
        tolerated_failure_percentage=float(fields["tol_pct"]),
        status=MapRunStatus(fields["status"]),
    )
    if "stop_date" in fields:
        map_run.stop_date = float(fields["stop_date"])
        map_run.launched, map_run.finished, map_run.failed = (
            int(fields[name]) for name in _COUNTERS
        )
    return map_run


def _produced_messages(execution_arn: str, produced: list[Any]) -> list[Message]:
    """The messages a Lua script returned as `run|seq|kind|after`."""
    messages = []
    for item in produced:
        run, seq, kind, after = str(item).split("|")
        messages.append(Message(execution_arn, run, int(seq), Kind(kind), {"after": int(after)}))
    return messages


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
        self._update_map_run_script = client.register_script(_UPDATE_MAP_RUN)
        self._definitions: dict[str, str] = {}

    @classmethod
    def from_url(cls, url: str, prefix: str = DEFAULT_PREFIX) -> RedisStore:
        """A store on the Redis at `url` (`redis://host:port/db`)."""
        return cls(redis_client(url), prefix)

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
    def map_run_index(self) -> str:
        """Hash: map run ARN -> the ARN of the execution that started it."""
        return self.prefix + "mapruns"

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

    def load_steps(
        self, arn: str, run_ids: list[str]
    ) -> tuple[ExecutionRecord | None, list[Run | None]]:
        """The execution and several of its runs (one per id, each its own object), in
        one round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self._x(arn) + "exec")
        pipe.hmget(self._x(arn) + "runs", run_ids)
        fields, stored = pipe.execute()
        return self._record_from(fields), [_run_from(s) if s else None for s in stored]

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
        if status is None and limit == 0:
            return []
        if status is None:  # a page straight from the index
            stop = -1 if limit is None else offset + limit - 1
            arns = [str(a) for a in self.client.zrevrange(index, offset, stop)]
        else:
            arns = [str(a) for a in self.client.zrevrange(index, 0, -1)]
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
            max_concurrency=int(fields.get("max_concurrency") or 0),
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

    def map_runs_of(self, execution_arn: str) -> list[MapRun]:
        arns = self.client.lrange(self._x(execution_arn) + "mrs", 0, -1)
        return self._map_runs(execution_arn, [str(a) for a in arns])

    def get_map_run(self, arn: str) -> MapRun | None:
        execution_arn = self.client.hget(self.map_run_index, arn)
        if execution_arn is None:
            return None
        found = self._map_runs(str(execution_arn), [arn])
        return found[0] if found else None

    def _map_runs(self, execution_arn: str, arns: list[str]) -> list[MapRun]:
        """The map runs, with the counters of the fan-outs of those still running."""
        prefix = self._x(execution_arn)
        pipe = self.client.pipeline(transaction=False)
        for arn in arns:
            pipe.hgetall(prefix + "mr:" + arn)
        found = [_map_run_from(fields) for fields in pipe.execute() if fields]
        running = [m for m in found if m.status == MapRunStatus.RUNNING]
        pipe = self.client.pipeline(transaction=False)
        for map_run in running:
            pipe.hmget(prefix + "fan:" + map_run.run_id, "map_run_arn", *_COUNTERS)
        for map_run, values in zip(running, pipe.execute(), strict=True):
            if values[0] == map_run.arn:
                map_run.launched, map_run.finished, map_run.failed = map(int, values[1:])
        return found

    def update_map_run(self, arn: str, limits: MapRunLimits) -> list[Message] | None:
        execution_arn = self.client.hget(self.map_run_index, arn)
        if execution_arn is None:
            return None
        execution_arn = str(execution_arn)
        prefix = self._x(execution_arn)
        record = self.client.hget(prefix + "mr:" + arn, "record")
        if record is None:
            return None
        run_id = json.loads(record)["run_id"]

        def text(value: float | None) -> str:
            return "" if value is None else repr(value)

        control = {
            "map_run": arn,
            "run": run_id,
            "max_concurrency": text(limits.max_concurrency),
            "tol_count": text(limits.tolerated_failure_count),
            "tol_pct": text(limits.tolerated_failure_percentage),
            "threshold": dumps(["States.ExceedToleratedFailureThreshold", THRESHOLD_CAUSE]),
            "outbox_prefix": execution_arn + "|",
            "lease": time.time() + self.lease_seconds,
        }
        produced = self._update_map_run_script(
            keys=[prefix + "mr:" + arn, prefix + "fan:" + run_id, self.outbox_key],
            args=[dumps(control)],
        )
        if produced is None:
            return None
        return _produced_messages(execution_arn, produced)

    # ----- writes ------------------------------------------------------------------------

    def finish_express(
        self,
        record: ExecutionRecord,
        events: list[Event],
        consumed: str,
        forget_after: float | None = None,
    ) -> bool:
        """Keep an Express execution's end and history (with `forget_after`: only its
        end, for that many seconds); False if it already ended."""
        if forget_after is not None:
            events = []
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
                dumps(shallow_dict(end)),
                record.status.value,
                record.transitions,
                len(events) + 1,
                consumed,
                record.arn,
                _seconds(forget_after),
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
        produced = self._run_commit([writes], create=_record_json(record, definition_id))[0]
        if produced is None:
            return False
        if writes.forget_after is not None:
            return True  # kept out of the listings
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(self.prefix + "executions", {record.arn: record.start_date})
        pipe.zadd(
            self.prefix + f"machine:{record.state_machine_arn}", {record.arn: record.start_date}
        )
        pipe.execute()
        return True

    def commit(self, writes: StepWrites) -> list[Message] | None:
        return self._run_commit([writes])[0]

    def commit_many(self, batch: list[StepWrites]) -> list[list[Message] | None]:
        """Steps of one execution in one Lua call, applied in order, each with its own
        compare-and-set: a fan-out's children commit as a batch."""
        return self._run_commit(batch) if batch else []

    def _run_commit(
        self, batch: list[StepWrites], create: str | None = None
    ) -> list[list[Message] | None]:
        arn = batch[0].execution.arn
        prefix = self._x(arn)
        controls = [self._control(writes, create) for writes in batch]
        keys = [
            prefix + "exec",
            prefix + "runs",
            prefix + "events",
            self.timers_key,
            self.outbox_key,
            prefix + "fans",
            self.tasks_key,
        ]
        replies = self._commit_script(keys=keys, args=[dumps(controls), prefix])
        return [None if reply is None else _produced_messages(arn, reply) for reply in replies]

    def _control(self, writes: StepWrites, create: str | None) -> dict[str, Any]:
        arn = writes.execution.arn
        outbox = [key_of(m) for m in writes.messages]
        tasks = [[message_key(arn, t.run, t.seq, "task"), task_json(t)] for t in writes.tasks]
        end = writes.end
        return {
            "create": create is not None,
            "redrive": writes.redrive,
            "keep_root": writes.keep_root and writes.forget_after is None,
            "forget_after": _seconds(writes.forget_after),
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
                        "max_concurrency": f.max_concurrency,
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
            "end_blob": dumps(shallow_dict(end)) if end else "",
            "timers": [[due, key_of(m)] for due, m in writes.timers],
            "activity_tasks": [
                [self.prefix + "activity:" + a, task] for a, task in writes.activity_tasks
            ],
            "outbox": outbox,
            "tasks": tasks,
            "outbox_prefix": arn + "|",
            "lease": time.time() + self.lease_seconds,
            "report": self._report(writes.child_report),
            "map_runs": [_map_run_fields(m) for m in writes.map_runs],
            "map_run_index": self.map_run_index,
            "now": repr(writes.now),
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
