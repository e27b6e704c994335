"""What `stepline server` runs beside the API when REDIS_URL is set: `stepline worker`
child processes and the timer loop on a thread.

Each worker is a child process in its own session, so Ctrl-C in a terminal reaches only
the server, which then stops the workers itself (SIGTERM: Celery's warm shutdown finishes
the steps in hand; late acks return anything unfinished to the broker) and kills what is
still running after a grace period. On Linux the children also get SIGTERM should the
server die without stopping them (strictly: when the thread that started them ends;
the main thread, or the watcher thread for a worker started again, both live until
`stop`). A worker that exits on its own is started again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import redis

from scheduler.timers import SchedulerSettings, TimerLoop
from workers.runtime import WorkerRuntime

log = logging.getLogger("stepline.server")

#: Seconds a worker may take to finish its steps in hand once asked to stop.
STOP_GRACE_SECONDS = 30.0
_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A pre-exec hook giving a child SIGTERM when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prctl = libc.prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


class WorkerProcesses:
    """`count` `stepline worker` children, kept running until `stop`."""

    def __init__(
        self,
        count: int,
        *,
        env: Mapping[str, str],
        handlers: Sequence[str] = (),
        concurrency: int | None = None,
        loglevel: str = "WARNING",
    ) -> None:
        self.count = count
        self.env = dict(env)
        command = [sys.executable, "-m", "scheduler.cli", "worker", "--loglevel", loglevel]
        # One at a time: run steps in the worker process itself (Celery's solo pool),
        # which saves the hand-off to a pool child, about a quarter of a step's CPU.
        if concurrency == 1:
            command += ["--pool", "solo"]
        elif concurrency is not None:
            command += ["--concurrency", str(concurrency)]
        for spec in handlers:
            command += ["--handlers", spec]
        self.command = command
        self.processes: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._hook = _parent_death_signal()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.command, env=self.env, start_new_session=True, preexec_fn=self._hook
        )

    def start(self) -> None:
        """Start the workers, and a thread that restarts any that exits."""
        self.processes = [self._spawn() for _ in range(self.count)]
        self._watcher = threading.Thread(target=self._watch, name="stepline-workers", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            for index, process in enumerate(self.processes):
                code = process.poll()
                if code is not None and not self._stopping.is_set():
                    log.warning("worker %d (pid %d) exited with %d; starting it again",
                                index, process.pid, code)
                    self.processes[index] = self._spawn()

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM every worker (and its pool), wait up to `grace`, then SIGKILL."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(5)
        for process in self.processes:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not stop in %.0f s; killing it",
                            process.pid, grace)
                _signal_group(process, signal.SIGKILL)
                process.wait(10)
            _signal_group(process, signal.SIGKILL)  # pool processes left behind, if any
        self.processes = []


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class TimerThread:
    """The scheduler process's loop (due timers, expired leases) on a thread."""

    def __init__(self, runtime: WorkerRuntime, settings: SchedulerSettings | None = None) -> None:
        self.loop = TimerLoop(runtime.store, runtime.dispatcher, settings)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stepline-timers", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.loop.run(self._stop)
            except redis.RedisError as exc:  # Redis away for a moment: try again
                log.warning("timer loop: %s; retrying", exc)
                self._stop.wait(1.0)
            except Exception:  # a bug must not stop every timer for good
                log.exception("timer loop failed; restarting it")
                self._stop.wait(1.0)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
