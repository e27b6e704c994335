"""`stepline worker` and `stepline scheduler`: the two kinds of cluster process."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from workers.app import STEPS_QUEUE, TASKS_QUEUE, app

log = logging.getLogger("stepline")


def run_worker(
    handlers: Sequence[str] = (),
    concurrency: int | None = None,
    queues: Sequence[str] = (STEPS_QUEUE, TASKS_QUEUE),
    loglevel: str = "INFO",
    pool: str = "prefork",
) -> None:
    """Start a Celery worker for Stepline's queues (blocks until it is stopped).

    Handler files and modules are passed to the worker's processes through
    $STEPLINE_HANDLERS. SIGTERM makes Celery finish the steps in hand (warm shutdown);
    with late acks anything unfinished goes back to the broker.
    """
    if handlers:
        existing = [p for p in os.environ.get("STEPLINE_HANDLERS", "").split(os.pathsep) if p]
        os.environ["STEPLINE_HANDLERS"] = os.pathsep.join([*existing, *handlers])
    argv = ["worker", "-Q", ",".join(queues), "--loglevel", loglevel, "--pool", pool]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    app.worker_main(argv)


def run_scheduler(poll_seconds: float = 0.02) -> None:
    """Run the timer loop against $REDIS_URL until SIGTERM or SIGINT."""
    from scheduler.timers import SchedulerSettings, TimerLoop
    from workers.runtime import worker_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runtime = worker_runtime()
    loop = TimerLoop(runtime.store, runtime.dispatcher, SchedulerSettings(poll_seconds))
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("scheduler: signal %s, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("scheduler: firing timers from %s", runtime.settings.redis_url or "local Redis")
    loop.run(stop)
    log.info("scheduler: stopped")
