"""`python -m bench.api`: executions per second through the API, and start-to-finish latency.

Runs a real `stepline server` in each configuration (the embedded engine; Redis + Celery
with `--workers 2` against a private redis-server) and drives it with boto3 from client
threads in this process, each with its own client:

- throughput: `--executions` StartExecution calls of a 5-state machine from `--threads`
  threads at once; executions per second from the first call to the last execution's
  `stopDate` (the server's clock; same machine);
- latency: one thread starting an execution every 1/`--rate` s (not saturated);
  start-to-finish is from just before the StartExecution call to the execution's
  `stopDate`: p50, p99 and max.

`--states pass` (default) chains Pass states (on Redis, one Celery hop per execution),
`--states task` chains Task states calling a no-op local handler (one Celery hop for the
step and one for the call, per state). Results go to `bench/results/api-STATES.json`.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench.results import environment, load_average
from tests.e2e.conftest import Server, clean_env, start_server, wait_ready
from workers.local_cluster import RedisServer

RESULTS = Path(__file__).resolve().parent / "results"
"""Where `api-pass.json` / `api-task.json` go."""
HANDLERS = Path(__file__).resolve().parent / "noop_handlers.py"
NOOP = "arn:aws:lambda:us-east-1:123456789012:function:noop"
ROLE = "arn:aws:iam::123456789012:role/bench"


def definition(states: str, count: int = 5) -> str:
    """A chain of `count` Pass (or Task) states."""
    chain: dict[str, Any] = {}
    for i in range(count):
        state: dict[str, Any] = (
            {"Type": "Pass"} if states == "pass" else {"Type": "Task", "Resource": NOOP}
        )
        state.update({"Next": f"S{i + 1}"} if i + 1 < count else {"End": True})
        chain[f"S{i}"] = state
    return json.dumps({"StartAt": "S0", "States": chain})


def client(url: str) -> Any:
    return boto3.client(
        "stepfunctions", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="bench", aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=4),
    )


@dataclass
class Figures:
    configuration: str
    states: str
    executions: int
    threads: int
    executions_per_s: float
    saturated_p50_ms: float
    saturated_p99_ms: float
    rate_per_s: float
    latency_samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    failed: int


@contextmanager
def running(configuration: str, workers: int) -> Iterator[Server]:
    """A `stepline server` in `configuration` (embedded, or redis with `workers`)."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-api-{configuration}-"))
    options = ["--handlers", str(HANDLERS)]
    if configuration == "embedded":
        server = start_server(folder, *options, env=clean_env(), handlers=False)
        try:
            yield server
        finally:
            server.stop()
        return
    redis = RedisServer(folder / "redis")
    redis.start()
    try:
        server = start_server(folder, *options, "--workers", str(workers),
                              env=clean_env(REDIS_URL=redis.url), handlers=False,
                              mode="server-redis")
        try:
            wait_ready(server.url)
            yield server
        finally:
            server.stop(timeout=60)
    finally:
        redis.stop()


def _start_all(url: str, machine: str, count: int, threads: int) -> list[tuple[str, float]]:
    """Start `count` executions from `threads` threads; (ARN, time before the call)."""
    todo: queue.Queue[int] = queue.Queue()
    for i in range(count):
        todo.put(i)
    started: list[tuple[str, float]] = []
    lock = threading.Lock()

    def work() -> None:
        sfn = client(url)
        while True:
            try:
                todo.get_nowait()
            except queue.Empty:
                return
            before = time.time()
            arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
            with lock:
                started.append((arn, before))

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return started


def _finished(url: str, started: list[tuple[str, float]], threads: int) -> list[dict[str, Any]]:
    """Describe every execution once it ended. Until the last one started has ended, only
    that one is polled (every 0.2 s), so polling takes little from the timed part."""
    last = max(started, key=lambda item: item[1])[0]
    sfn = client(url)
    deadline = time.monotonic() + 120
    while sfn.describe_execution(executionArn=last)["status"] == "RUNNING":
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    results: list[dict[str, Any]] = []
    chunks = [started[i::threads] for i in range(threads)]
    lock = threading.Lock()

    def work(chunk: list[tuple[str, float]]) -> None:
        sfn = client(url)
        for arn, before in chunk:
            deadline = time.monotonic() + 120
            while True:
                described = sfn.describe_execution(executionArn=arn)
                if described["status"] != "RUNNING" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            with lock:
                results.append({"status": described["status"], "before": before,
                                "stop": described.get("stopDate")})

    pool = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def _latencies(results: list[dict[str, Any]]) -> list[float]:
    return sorted((r["stop"].timestamp() - r["before"]) * 1000 for r in results if r["stop"])


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


def measure(url: str, args: argparse.Namespace, configuration: str) -> Figures:
    sfn = client(url)
    machine = sfn.create_state_machine(
        name=f"bench-{uuid.uuid4().hex[:8]}", definition=definition(args.states), roleArn=ROLE
    )["stateMachineArn"]
    _finished(url, _start_all(url, machine, 50, args.threads), args.threads)  # warm up
    started = _start_all(url, machine, args.executions, args.threads)
    results = _finished(url, started, args.threads)
    first = min(before for _, before in started)
    last = max(r["stop"].timestamp() for r in results if r["stop"])
    saturated = _latencies(results)
    samples = _paced(url, machine, args.rate, args.samples)
    paced = _latencies(samples)
    return Figures(
        configuration=configuration, states=args.states, executions=args.executions,
        threads=args.threads, executions_per_s=round(args.executions / (last - first), 1),
        saturated_p50_ms=round(_percentile(saturated, 0.5), 1),
        saturated_p99_ms=round(_percentile(saturated, 0.99), 1),
        rate_per_s=args.rate, latency_samples=len(paced),
        p50_ms=round(_percentile(paced, 0.5), 1), p99_ms=round(_percentile(paced, 0.99), 1),
        max_ms=round(paced[-1], 1) if paced else float("nan"),
        failed=sum(r["status"] != "SUCCEEDED" for r in results + samples),
    )


def _paced(url: str, machine: str, rate: float, count: int) -> list[dict[str, Any]]:
    """`count` executions started one at a time, `rate` per second."""
    sfn = client(url)
    started = []
    next_at = time.monotonic()
    for _ in range(count):
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at += 1.0 / rate
        before = time.time()
        started.append((sfn.start_execution(stateMachineArn=machine)["executionArn"], before))
    return _finished(url, started, 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    parser.add_argument("--configurations", default="embedded,redis",
                        help="comma-separated: embedded, redis")
    parser.add_argument("--states", choices=["pass", "task"], default="pass")
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=20.0,
                        help="executions per second of the latency run")
    parser.add_argument("--samples", type=int, default=400,
                        help="executions in the latency run")
    args = parser.parse_args(argv)
    load_at_start = load_average()
    figures = []
    for configuration in args.configurations.split(","):
        with running(configuration, args.workers) as server:
            figures.append(measure(server.url, args, configuration))
        print(json.dumps(asdict(figures[-1])), file=sys.stderr, flush=True)
    print(f"{'configuration':<14}{'states':<7}{'exec/s':>9}{'sat p50':>9}{'sat p99':>9}"
          f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'failed':>8}")
    for f in figures:
        print(f"{f.configuration:<14}{f.states:<7}{f.executions_per_s:>9.1f}"
              f"{f.saturated_p50_ms:>9.1f}{f.saturated_p99_ms:>9.1f}{f.p50_ms:>9.1f}"
              f"{f.p99_ms:>9.1f}{f.max_ms:>9.1f}{f.failed:>8}")
    results = RESULTS / f"api-{args.states}.json"
    RESULTS.mkdir(exist_ok=True)
    report = {"environment": environment(load_at_start), "settings": vars(args),
              "figures": [asdict(f) for f in figures]}
    results.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(f.failed == 0 for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
