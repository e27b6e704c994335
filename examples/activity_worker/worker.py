"""The activity worker for `approve-order`: approves orders up to 1000, rejects the rest.

Run it with the CLI (from the repository root):

    stepline activity-worker \
        --activity arn:aws:states:us-east-1:123456789012:activity:approve-order \
        --handler examples/activity_worker/worker.py:approve --heartbeat 2

or as a script: `python examples/activity_worker/worker.py [ENDPOINT_URL]`.
"""

from __future__ import annotations

import sys
import time
from typing import Any

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:approve-order"
LIMIT = 1000


class OverBudget(Exception):
    """The order costs more than a worker may approve (the state machine catches it)."""


def approve(order: dict[str, Any]) -> dict[str, Any]:
    """The task's input is the order; the output becomes `$.approval`."""
    time.sleep(order.get("review_seconds", 0))  # a slow review: heartbeats keep it alive
    if order["total"] > LIMIT:
        raise OverBudget(f"order {order['id']} totals {order['total']}, over the {LIMIT} limit")
    return {"approved": True, "id": order["id"]}


if __name__ == "__main__":
    from integrations.activity_worker import run_activity_worker

    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8083"
    run_activity_worker(ACTIVITY, approve, endpoint_url=url, heartbeat_seconds=2)
