"""Map run actions: ListMapRuns, DescribeMapRun, UpdateMapRun."""

from __future__ import annotations

from typing import Any

from scheduler.api.protocol import Action, Context, date, drop_none
from scheduler.engine.map_runs import MapRunLimits
from scheduler.service.map_runs import MapRunCounts, counts


def _counts(found: MapRunCounts) -> dict[str, int]:
    return {
        "pending": found.pending,
        "running": found.running,
        "succeeded": found.succeeded,
        "failed": found.failed,
        "timedOut": found.timed_out,
        "aborted": found.aborted,
        "total": found.total,
        "resultsWritten": found.results_written,
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    }


def list_map_runs(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    found, token = ctx.service.map_runs.list_runs(
        body["executionArn"], max_results=body.get("maxResults"), token=body.get("nextToken")
    )
    listed = [
        drop_none(
            {
                "executionArn": m.execution_arn,
                "mapRunArn": m.arn,
                "stateMachineArn": m.state_machine_arn,
                "startDate": date(m.start_date),
                "stopDate": date(m.stop_date),
            }
        )
        for m in found
    ]
    return drop_none({"mapRuns": listed, "nextToken": token})


def describe_map_run(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    found = ctx.service.map_runs.describe(body["mapRunArn"])
    item_counts = _counts(counts(found))
    return drop_none(
        {
            "mapRunArn": found.arn,
            "executionArn": found.execution_arn,
            "status": found.status.value,
            "startDate": date(found.start_date),
            "stopDate": date(found.stop_date),
            "maxConcurrency": found.max_concurrency,
            "toleratedFailurePercentage": found.tolerated_failure_percentage,
            "toleratedFailureCount": found.tolerated_failure_count,
            "itemCounts": item_counts,
            "executionCounts": dict(item_counts),
            "redriveCount": 0,
        }
    )


def update_map_run(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    percentage = body.get("toleratedFailurePercentage")
    limits = MapRunLimits(
        max_concurrency=body.get("maxConcurrency"),
        tolerated_failure_count=body.get("toleratedFailureCount"),
        tolerated_failure_percentage=None if percentage is None else float(percentage),
    )
    ctx.service.map_runs.update(body["mapRunArn"], limits)
    return {}


ACTIONS: dict[str, Action] = {
    "ListMapRuns": list_map_runs,
    "DescribeMapRun": describe_map_run,
    "UpdateMapRun": update_map_run,
}
