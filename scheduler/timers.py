"""The scheduler process: fires due timers and re-sends steps whose worker died.

Timers (Wait, retry back-off, task and execution timeouts) sit in a Redis sorted set
scored by due time; the loop claims due ones atomically (so any number of replicas
never fire one twice), records them as in flight, and sends them. Every message in
flight has a lease in the outbox set; one whose lease ran out (its worker died, or the
broker lost it) is sent again. A duplicate is harmless: the engine's seq check drops it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from scheduler.engine.dispatcher import Dispatcher
from scheduler.engine.messages import Kind, Message, parse_key
from scheduler.engine.redis_store import RedisStore, task_from

log = logging.getLogger("stepline.scheduler")

_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, m in ipairs(due) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZADD', KEYS[2], ARGV[2], m)
end
return due
"""

_EXPIRED = """
local late = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, m in ipairs(late) do redis.call('ZADD', KEYS[1], ARGV[2], m) end
return late
"""


@dataclass(frozen=True)
class SchedulerSettings:
    """How often the loop looks, and how long a message may stay in flight."""

    poll_seconds: float = 0.02
    sweep_seconds: float = 1.0
    batch: int = 500


class TimerLoop:
    """Claims due timers and expired leases, and dispatches them."""

    def __init__(
        self,
        store: RedisStore,
        dispatcher: Dispatcher,
        settings: SchedulerSettings | None = None,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.settings = settings or SchedulerSettings()
        self._claim = store.client.register_script(_CLAIM)
        self._expired = store.client.register_script(_EXPIRED)

    def fire_due(self, now: float) -> int:
        """Send every timer due by `now`; returns how many."""
        lease = now + self.store.lease_seconds
        keys = [self.store.timers_key, self.store.outbox_key]
        due = self._claim(keys=keys, args=[now, lease, self.settings.batch])
        for key in due:
            self._send(str(key))
        return len(due)

    def resend_expired(self, now: float) -> int:
        """Send again every in-flight message whose lease ran out; returns how many."""
        lease = now + self.store.lease_seconds
        late = self._expired(
            keys=[self.store.outbox_key], args=[now, lease, self.settings.batch]
        )
        for key in late:
            log.warning("re-sending %s: its lease ran out", key)
            self._send(str(key))
        return len(late)

    def _send(self, key: str) -> None:
        execution, run, seq, kind = parse_key(key)
        if kind == "task":
            stored = self.store.client.hget(self.store.tasks_key, key)
            if stored:
                self.dispatcher.invoke(task_from(str(stored)))
            else:
                self.store.forget(key)
            return
        self.dispatcher.send(Message(execution, run, seq, Kind(kind)))

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set."""
        next_sweep = 0.0
        while not stop.is_set():
            now = time.time()
            fired = self.fire_due(now)
            if now >= next_sweep:
                self.resend_expired(now)
                next_sweep = now + self.settings.sweep_seconds
            if fired < self.settings.batch:
                stop.wait(self.settings.poll_seconds)
