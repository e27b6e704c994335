"""Redis round trips and Celery hops per execution, counted on the wire with MONITOR.

One execution of a workload runs while `redis-cli MONITOR` records every command the
private Redis receives. Each command is named by what it touches (`HGETALL x:…:exec`,
`LPUSH stepline.steps`, `EVALSHA commit.lua`, ...), commands run inside a Lua script are
counted apart (they are not round trips), and a client's consecutive commands are one
round trip when they arrive within `PIPELINE_GAP` of each other with nothing between
(a pipeline) or between MULTI and EXEC. The poller's own status reads are left out;
the scheduler's timer polls and Celery's heartbeats go on whether or not anything runs
and are reported per second as background. The capture spans StartExecution (as this
process does it: what an API server would) until the poller sees the end, plus
`SETTLE_SECONDS` for the last acks. A Celery hop is one task message: an LPUSH
onto `stepline.steps` or `stepline.tasks`.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.cluster_runs import ClusterClient
from bench.cluster_setup import PREFIX
from bench.workloads import Workload

PIPELINE_GAP = 30e-6
"""Seconds between two commands of one client below which they are one round trip."""
SETTLE_SECONDS = 0.3
"""Capture this long after the execution ends, so its last acks are in."""
BACKGROUND = ("EVALSHA scheduler", "PUBLISH")
"""Signatures of traffic that runs whether or not an execution does."""
QUEUES = ("stepline.steps", "stepline.tasks")

_LINE = re.compile(
    r'^(?P<ts>\d+\.\d+) \[\d+ (?P<client>[^\]]+)\] "(?P<command>[^"]+)"(?P<rest>.*)$'
)
_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ARN_PARTS = 8
"""`arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`."""


@dataclass(frozen=True, slots=True)
class Command:
    """One MONITOR line."""

    time: float
    client: str
    """`ip:port`, or `lua` for a command a script ran."""
    name: str
    args: tuple[str, ...]
    """The first few arguments, still escaped as redis-cli prints them."""


@dataclass(slots=True)
class WireCounts:
    """What one execution cost on the wire."""

    workload: str
    description: str
    unit: str
    units: int
    round_trips: int
    """Client round trips to Redis, background and poller left out."""
    commands: int
    """Commands clients sent (a pipeline's commands counted one by one)."""
    script_commands: int
    """Commands run inside Lua scripts (the commit)."""
    celery_hops: dict[str, int] = field(default_factory=dict)
    """Task messages published, by queue."""
    by_kind: dict[str, int] = field(default_factory=dict)
    """Round trips by what they do."""
    background_per_s: dict[str, float] = field(default_factory=dict)


def parse_line(line: str) -> Command | None:
    """A MONITOR line as a Command (None for anything else, like the first `OK`)."""
    match = _LINE.match(line)
    if match is None:
        return None
    args = tuple(arg.group(1) for arg in itertools.islice(_ARG.finditer(match["rest"]), 3))
    return Command(float(match["ts"]), match["client"], match["command"].upper(), args)


def key_kind(key: str) -> str:
    """A key with its execution ARN, run id and hashes elided: `x:…:exec`, `def:…`."""
    if key.startswith(PREFIX + "x:"):
        parts = key[len(PREFIX) + 2 :].split(":")
        return f"x:…:{parts[_ARN_PARTS] if len(parts) > _ARN_PARTS else '?'}"
    if key.startswith(PREFIX):
        head, colon, _ = key[len(PREFIX) :].partition(":")
        return f"{head}:…" if colon else head
    if key.startswith("_kombu.binding"):
        return key.split(".", 2)[0] + "." + key.split(".", 2)[1] + ".…"
    return key.split("\\x06", 1)[0]


def signature(command: Command) -> str:
    """What a command does, as counted: `HGET x:…:runs`, `EVALSHA commit.lua`, ..."""
    if command.name in ("EVALSHA", "EVAL") and len(command.args) >= 3:
        key = command.args[2]
        if key.endswith(":exec"):
            return f"{command.name} commit.lua"
        return f"{command.name} scheduler {'timers' if key.endswith('timers') else 'sweep'}"
    if command.name in ("BRPOP", "BLPOP"):
        return f"{command.name} (queues)"
    if command.args and command.name not in ("MULTI", "EXEC", "HELLO", "PING", "CLIENT"):
        return f"{command.name} {key_kind(command.args[0])}"
    return command.name


def round_trips(commands: list[Command]) -> list[list[Command]]:
    """Clients' commands grouped into round trips (Lua's own commands left out)."""
    groups: list[list[Command]] = []
    in_multi: set[str] = set()
    previous: Command | None = None
    for command in commands:
        if command.client == "lua":
            continue
        joins = previous is not None and previous.client == command.client
        if joins and previous is not None and command.client not in in_multi:
            joins = command.time - previous.time <= PIPELINE_GAP
        if joins:
            groups[-1].append(command)
        else:
            groups.append([command])
        if command.name == "MULTI":
            in_multi.add(command.client)
        elif command.name == "EXEC":
            in_multi.discard(command.client)
        previous = command
    return groups


def group_signature(group: list[Command]) -> str:
    """A round trip named by its commands (`HGETALL x:…:exec + HGET x:…:runs`)."""
    names = [signature(command) for command in group if command.name not in ("MULTI", "EXEC")]
    collapsed: list[str] = []
    for name, count in Counter(names).items():
        collapsed.append(name if count == 1 else f"{name} x{count}")
    inner = " + ".join(collapsed) or group[0].name
    return f"MULTI[{inner}]" if group[0].name == "MULTI" else inner


def count_wire(workload: Workload, commands: list[Command], seconds: float) -> WireCounts:
    """Tally one capture."""
    counts = WireCounts(
        workload=workload.name,
        description=workload.description,
        unit=workload.unit,
        units=workload.work,
        round_trips=0,
        commands=0,
        script_commands=sum(1 for command in commands if command.client == "lua"),
    )
    kinds: Counter[str] = Counter()
    background: Counter[str] = Counter()
    for group in round_trips(commands):
        name = group_signature(group)
        if name.startswith(BACKGROUND):
            background[name] += 1
            continue
        kinds[name] += 1
        counts.round_trips += 1
        counts.commands += sum(1 for c in group if c.name not in ("MULTI", "EXEC"))
    counts.by_kind = dict(kinds.most_common())
    counts.background_per_s = {name: n / seconds for name, n in background.items()}
    counts.celery_hops = {queue: kinds.get(f"LPUSH {queue}", 0) for queue in QUEUES}
    return counts


def capture_wire(client: ClusterClient, workload: Workload, folder: Path) -> WireCounts:
    """Run one execution of `workload` under MONITOR and count what it cost."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"monitor.{workload.name}.txt"
    client.run(workload, timeout=60)  # warm: definition compiled, connections open
    with path.open("w") as output:
        monitor = subprocess.Popen(
            ["redis-cli", "-p", str(client.cluster.port), "monitor"], stdout=output
        )
        try:
            _wait_for_monitor(path)
            started = time.monotonic()
            client.wait([client.start(workload)], timeout=60)
            time.sleep(SETTLE_SECONDS)
            seconds = time.monotonic() - started
        finally:
            monitor.terminate()
            monitor.wait(10)
    poller = client.cluster.poller_address()
    commands = [c for c in map(parse_line, path.read_text().splitlines()) if c is not None]
    return count_wire(workload, [c for c in commands if c.client != poller], seconds)


def _wait_for_monitor(path: Path, timeout: float = 5.0) -> None:
    """Wait until redis-cli has printed MONITOR's `OK` (it is then recording)."""
    deadline = time.monotonic() + timeout
    while not path.read_text().startswith("OK"):
        if time.monotonic() > deadline:
            raise TimeoutError("redis-cli MONITOR did not start")
        time.sleep(0.01)
