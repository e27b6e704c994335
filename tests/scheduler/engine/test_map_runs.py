"""The pure map-run rules: launching under MaxConcurrency, new limits, how a run ends."""

from __future__ import annotations

from scheduler.engine.fanin import launch_more
from scheduler.engine.map_runs import MapRunLimits, apply_limits, retire
from scheduler.engine.messages import Kind
from scheduler.engine.records import Fanout, MapRun, MapRunStatus

ARN = "arn:aws:states:us-east-1:123456789012:execution:m:e"


def fanout(total: int, launched: int, finished: int = 0, failed: int = 0,
           max_concurrency: int = 0) -> Fanout:
    return Fanout(kind="Map", total=total, first_child=0, launched=launched, parent_seq=3,
                  results=[None] * total, finished=finished, failed=failed,
                  started_event_id=7, map_run_arn="mr", max_concurrency=max_concurrency)


def map_run(total: int) -> MapRun:
    return MapRun("mr", ARN, "sm", "0", 1.0, total)


def test_children_launch_while_fewer_than_the_limit_run() -> None:
    held = fanout(6, launched=2, finished=1, max_concurrency=2)
    launched = launch_more(held, "0", ARN, after=9)
    assert [m.run for m in launched] == ["0.2"] and held.launched == 3
    assert launched[0].kind == Kind.ENTER and launched[0].data == {"after": 9}
    assert launch_more(fanout(3, launched=3, max_concurrency=0), "0", ARN, 9) == []


def test_a_raised_limit_starts_held_back_children_and_a_lowered_one_holds_more() -> None:
    held, run = fanout(10, launched=2, max_concurrency=2), map_run(10)
    started = apply_limits(run, held, MapRunLimits(max_concurrency=5), ARN)
    assert [m.run for m in started] == ["0.2", "0.3", "0.4"]
    assert (run.max_concurrency, held.launched) == (5, 5)
    assert apply_limits(run, held, MapRunLimits(max_concurrency=1), ARN) == []
    held.finished = 4  # one still runs: the limit of 1 is reached, nothing starts
    assert launch_more(held, "0", ARN, 0) == []


def test_a_lowered_tolerance_fails_at_once_with_the_threshold_error() -> None:
    held, run = fanout(4, launched=2, finished=1, failed=1), map_run(4)
    held.tolerance_set, held.max_failures = True, 2
    joined = apply_limits(run, held, MapRunLimits(tolerated_failure_percentage=10.0), ARN)
    assert [(m.run, m.kind, m.seq) for m in joined] == [("0", Kind.JOIN, 3)]
    assert held.failure is not None and held.failure[0] == "States.ExceedToleratedFailureThreshold"
    assert held.joined and run.tolerated_failure_percentage == 10.0


def test_how_a_map_run_ends() -> None:
    for joined, failure, status in ((True, None, MapRunStatus.SUCCEEDED),
                                    (True, ("E", None), MapRunStatus.FAILED),
                                    (False, None, MapRunStatus.ABORTED)):
        run, held = map_run(3), fanout(3, launched=3, finished=2, failed=1)
        held.joined, held.failure = joined, failure
        retire(run, held, now=5.0)
        assert (run.status, run.stop_date, run.finished, run.failed) == (status, 5.0, 2, 1)
        retire(run, fanout(3, launched=3, finished=3), now=9.0)  # ended once, for good
        assert (run.stop_date, run.finished) == (5.0, 2)
