"""The in-process dispatcher: the embedded default's queue, timers and task threads.

One loop thread runs every engine step (so steps never race); task calls run on a thread
pool and post their outcome back to the loop. Timers sit in a heap and fire when due.
Nothing here sleeps in place of a Wait: the loop only blocks when it has nothing to do.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from scheduler.engine.clock import Clock, SkippingClock
from scheduler.engine.messages import Kind, Message, TaskCaller, TaskRequest, call_task


class InlineDispatcher:
    """Delivers messages to `handle` on the thread that calls `run`."""

    def __init__(self, clock: Clock, call_task: TaskCaller, task_threads: int = 16) -> None:
        self.clock = clock
        self.call_task = call_task
        self._ready: deque[Message] = deque()
        self._timers: list[tuple[float, int, Message]] = []
        self._order = itertools.count()
        self._inbox: queue.SimpleQueue[Message | Callable[[], None]] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(task_threads, thread_name_prefix="stepline-task")
        self._loop_thread: threading.Thread | None = None
        self._in_flight = 0

    # ----- Dispatcher contract -----------------------------------------------------------

    def send(self, message: Message) -> None:
        if threading.current_thread() is self._loop_thread:
            self._ready.append(message)
        else:
            self._inbox.put(message)

    def send_many(self, messages: list[Message]) -> None:
        for message in messages:
            self.send(message)

    def send_at(self, due: float, message: Message) -> None:
        if threading.current_thread() is self._loop_thread:
            heapq.heappush(self._timers, (due, next(self._order), message))
        else:
            self._inbox.put(lambda: heapq.heappush(self._timers, (due, next(self._order), message)))

    def invoke(self, request: TaskRequest) -> None:
        self._in_flight += 1
        self._pool.submit(self._call, request)

    def invoke_many(self, requests: list[TaskRequest]) -> None:
        for request in requests:
            self.invoke(request)

    def call_soon(self, function: Callable[[], None]) -> None:
        """Run `function` on the loop thread (how other threads reach the engine)."""
        self._inbox.put(function)

    # ----- the loop ------------------------------------------------------------------------

    def _call(self, request: TaskRequest) -> None:
        self._inbox.put(call_task(self.call_task, request))

    def run(
        self,
        handle: Callable[[Message], None],
        until: Callable[[], bool],
        idle_timeout: float | None = None,
    ) -> None:
        """Deliver messages until `until()` is true (checked whenever the queue drains)."""
        self._loop_thread = threading.current_thread()
        try:
            while True:
                while self._ready:
                    handle(self._ready.popleft())
                self._drain_inbox(block_for=0.0)
                self._fire_due_timers()
                if self._ready:
                    continue
                if until():
                    return
                if self._skip_time():
                    continue
                self._drain_inbox(block_for=self._time_to_next_timer(idle_timeout))
                self._fire_due_timers()
        finally:
            self._loop_thread = None

    def _skip_time(self) -> bool:
        """With a SkippingClock and nothing running, jump to the next timer."""
        if not isinstance(self.clock, SkippingClock) or self._in_flight or not self._timers:
            return False
        self.clock.advance_to(self._timers[0][0])
        self._fire_due_timers()
        return True

    def _time_to_next_timer(self, idle_timeout: float | None) -> float:
        if self._timers:
            return max(0.0, min(self._timers[0][0] - self.clock.now(), 0.5))
        return idle_timeout if idle_timeout is not None else 0.5

    def _drain_inbox(self, block_for: float) -> None:
        try:
            item = self._inbox.get(timeout=block_for) if block_for > 0 else self._inbox.get_nowait()
        except queue.Empty:
            return
        while True:
            if isinstance(item, Message):
                if item.kind == Kind.TASK_DONE:
                    self._in_flight -= 1
                self._ready.append(item)
            else:
                item()
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return

    def _fire_due_timers(self) -> None:
        now = self.clock.now()
        while self._timers and self._timers[0][0] <= now:
            self._ready.append(heapq.heappop(self._timers)[2])

    def close(self) -> None:
        """Stop the task threads (calls in flight finish in the background)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
