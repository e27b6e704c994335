"""Map runs: ListMapRuns, DescribeMapRun, UpdateMapRun, and ListExecutions of a map run.

A Distributed Map's run is kept by the engine beside the fan-out that runs its children
(`scheduler/engine/map_runs.py`); its counts are the fan-out's counters: true while it
runs, frozen when it ends. Stepline runs a map run's children as branches of the parent
execution, not as child executions, so there are none to list (see docs/api.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.engine.map_runs import MapRunLimits
from scheduler.engine.records import MapRun, MapRunStatus
from scheduler.service.engines import ExecutionEngine
from scheduler.service.errors import ExecutionDoesNotExist, ResourceNotFound, ValidationException
from scheduler.service.names import ArnKind, expect_arn
from scheduler.service.pagination import page


@dataclass(frozen=True, slots=True)
class MapRunCounts:
    """DescribeMapRun's `itemCounts` / `executionCounts` (one item per child here)."""

    pending: int
    running: int
    succeeded: int
    failed: int
    timed_out: int
    aborted: int
    total: int
    results_written: int


def counts(map_run: MapRun) -> MapRunCounts:
    """The children by status. When the run has ended, children that were still running
    were stopped (aborted); children never started stay pending."""
    in_flight = map_run.launched - map_run.finished
    ended = map_run.status != MapRunStatus.RUNNING
    return MapRunCounts(
        pending=map_run.total - map_run.launched,
        running=0 if ended else in_flight,
        succeeded=map_run.finished - map_run.failed,
        failed=map_run.failed,
        timed_out=0,
        aborted=in_flight if ended else 0,
        total=map_run.total,
        results_written=0,
    )


class MapRuns:
    """The map run actions over an engine."""

    def __init__(self, engine: ExecutionEngine) -> None:
        self.engine = engine

    def list_runs(
        self, execution_arn: str, *, max_results: int | None = None, token: str | None = None
    ) -> tuple[list[MapRun], str | None]:
        """ListMapRuns: the execution's map runs, newest first, paged."""
        expect_arn(execution_arn, ArnKind.EXECUTION)
        if self.engine.get_execution(execution_arn) is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{execution_arn}'")
        found = sorted(
            self.engine.map_runs_of(execution_arn),
            key=lambda m: (m.start_date, m.arn),
            reverse=True,
        )
        return page(
            found,
            lambda m: [m.start_date, m.arn],
            scope=f"mapruns:{execution_arn}",
            max_results=max_results,
            token=token,
            descending=True,
        )

    def describe(self, arn: str) -> MapRun:
        """DescribeMapRun: the map run with its current counts."""
        expect_arn(arn, ArnKind.MAP_RUN)
        map_run = self.engine.get_map_run(arn)
        if map_run is None:
            raise ResourceNotFound(f"Resource not found: '{arn}'")
        return map_run

    def update(self, arn: str, limits: MapRunLimits) -> None:
        """UpdateMapRun: new MaxConcurrency (for children not started yet) and tolerances
        (for the failure decision) on a running map run."""
        if limits == MapRunLimits():
            raise ValidationException(
                "At least one of maxConcurrency, toleratedFailurePercentage or "
                "toleratedFailureCount must be specified"
            )
        self.describe(arn)
        if not self.engine.update_map_run(arn, limits):
            raise ValidationException(f"Map Run is not running: '{arn}'")

    def executions(self, arn: str) -> list[MapRun]:
        """ListExecutions with `mapRunArn`: the map run must exist; it has no child
        executions to list (its children are branches of the parent execution)."""
        self.describe(arn)
        return []
