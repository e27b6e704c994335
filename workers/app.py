"""The Celery app: two queues, JSON only, late acks, prefetch of one.

`stepline.steps` carries engine steps (each a few milliseconds); `stepline.tasks` carries
Task-state calls (a handler may run for minutes), so a long handler never delays the
steps of other executions. `celery -A workers.app worker -Q stepline.steps,stepline.tasks`
or `stepline worker` runs a worker.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange, Queue  # type: ignore[attr-defined]

STEPS_QUEUE = "stepline.steps"
TASKS_QUEUE = "stepline.tasks"


def broker_url() -> str:
    """The broker: $STEPLINE_BROKER_URL, else $REDIS_URL, else a local Redis."""
    return os.environ.get("STEPLINE_BROKER_URL") or os.environ.get(
        "REDIS_URL", "redis://127.0.0.1:6379/0"
    )


def _queue(name: str) -> Queue:
    """A durable direct queue bound under its own name."""
    return Queue(name, Exchange(name, type="direct"), routing_key=name)  # type: ignore[no-untyped-call]


def make_app(broker: str | None = None) -> Celery:
    """A Celery app configured for Stepline's workers."""
    celery_app = Celery("stepline", broker=broker or broker_url(), include=["workers.tasks"])
    celery_app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message reserved per pool process: a worker busy in a long handler call then
        # holds nothing else back (late acks keep a reserved message until it is done).
        # Fan-outs travel 32-128 steps to a message, so this costs no throughput.
        worker_prefetch_multiplier=int(os.environ.get("STEPLINE_PREFETCH", "1")),
        # A redelivery only happens after a worker died holding the message; the engine's
        # own sweep re-sends lost steps much sooner, so this only has to outlast the
        # longest handler call.
        broker_transport_options={"visibility_timeout": 3600},
        task_queues=[_queue(STEPS_QUEUE), _queue(TASKS_QUEUE)],
        task_default_queue=STEPS_QUEUE,
        task_routes={
            "stepline.step": {"queue": STEPS_QUEUE},
            "stepline.steps": {"queue": STEPS_QUEUE},
            "stepline.invoke": {"queue": TASKS_QUEUE},
            "stepline.invokes": {"queue": TASKS_QUEUE},
        },
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    return celery_app


app = make_app()
