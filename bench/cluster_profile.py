"""Where the cluster's time goes: py-spy samples of the worker processes during a workload.

`profile_workload` runs py-spy (`pip install py-spy`) against every worker process (its pool
children too: `--subprocesses`) and this client process while the workload runs over and
over, then summarises the raw stacks per process: the share of samples in which each
function is on the stack (inclusive) and at its top (self). Only samples of threads
holding the GIL are kept (`--gil`), so the shares are of time spent running Python, not
waiting; on a busy 2-core machine a thread that holds the GIL but waits for a CPU still
counts. The raw stacks stay in the output folder for flame graphs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.cluster_runs import ClusterClient
from bench.workloads import Workload

RATE = 200
"""Samples per second per process."""
COMMON_SHARE = 0.9
"""Functions on more than this share of a process's stacks are left out of `inclusive`."""
_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^():]+)(?::\d+)?\)$")
_PROCESS = re.compile(r"^process (\d+):")


@dataclass(slots=True)
class ProcessProfile:
    """One process's samples, summarised."""

    role: str
    samples: int
    self_share: list[tuple[str, float]] = field(default_factory=list)
    """Functions by the share of samples in which they are running (top of the stack)."""
    inclusive_share: list[tuple[str, float]] = field(default_factory=list)
    """Functions by the share of samples in which they are on the stack, leaving out
    those on nearly every stack (`COMMON_SHARE`: the process's main loop and bootstrap)."""
    package_share: list[tuple[str, float]] = field(default_factory=list)
    """Self time summed by top-level package (`redis`, `kombu`, `scheduler`, `json`...)."""


def py_spy() -> str | None:
    """The py-spy executable, if installed."""
    return shutil.which("py-spy")


def profile_workload(
    client: ClusterClient,
    workload: Workload,
    seconds: float,
    folder: Path,
    top: int,
    batch: int = 1,
) -> list[ProcessProfile]:
    """Sample the workers (pool children included) and this client for `seconds` while
    `workload` runs over and over, `batch` executions started together each time."""
    executable = py_spy()
    if executable is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    folder.mkdir(parents=True, exist_ok=True)
    roles = client.cluster.cpu_roles()
    targets = {role: pid for role, pid in roles.items() if role == "client" or _is_worker(role)}
    duration = max(2, round(seconds))
    outputs = {role: folder / f"{workload.name}.{role}.txt" for role in targets}
    spies = [
        _spy(executable, targets[role], duration, path, role != "client")
        for role, path in outputs.items()
    ]
    deadline = time.monotonic() + duration - 0.5
    time.sleep(0.5)
    while time.monotonic() < deadline:
        arns = [client.start(workload) for _ in range(batch)]
        interval = 0.002 if batch == 1 else 0.02
        client.wait(arns, timeout=max(1.0, deadline - time.monotonic() + 30), interval=interval)
    for spy in spies:
        spy.wait(duration + 30)
    by_pid = {pid: role for role, pid in roles.items()}
    stacks: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for role, path in outputs.items():
        for (pid, frames), count in read_stacks(path, targets[role]).items():
            stacks[(by_pid.get(pid, f"pid {pid}"), frames)] += count
    return [summarise(role, stacks, top) for role in sorted({role for role, _ in stacks})]


def _is_worker(role: str) -> bool:
    """A worker's main process (py-spy follows it into its pool children)."""
    return role.startswith("worker") and "." not in role


def _spy(
    executable: str, pid: int, seconds: int, output: Path, children: bool
) -> subprocess.Popen[bytes]:
    """Start py-spy recording raw stacks of `pid` (and its `children`), GIL holders only."""
    command = [
        executable, "record", "--pid", str(pid), "--duration", str(seconds),
        "--rate", str(RATE), "--format", "raw", "--function", "--nonblocking", "--gil",
        "--output", str(output), *(["--subprocesses"] if children else []),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read_stacks(path: Path, pid: int) -> Counter[tuple[int, tuple[str, ...]]]:
    """py-spy raw output (`frame;frame;... count`, root first) by process id (`pid` for
    stacks without a `process` frame: py-spy adds them only with `--subprocesses`)."""
    stacks: Counter[tuple[int, tuple[str, ...]]] = Counter()
    if not path.exists():
        return stacks
    for line in path.read_text().splitlines():
        text, _, count = line.rpartition(" ")
        if not text or not count.isdigit():
            continue
        frames = text.split(";")
        pids = [int(match[1]) for match in map(_PROCESS.match, frames) if match]
        code = tuple(frame for frame in frames if not _PROCESS.match(frame))
        stacks[(pids[-1] if pids else pid, code)] += int(count)
    return stacks


def frame_name(frame: str) -> str:
    """`file.py:function` of a frame."""
    match = _FRAME.match(frame)
    return frame if match is None else f"{match['file']}:{match['function']}"


def summarise(role: str, stacks: Counter[tuple[str, tuple[str, ...]]], top: int) -> ProcessProfile:
    """Self and inclusive shares of the `top` heaviest functions in one process."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for (owner, frames), count in stacks.items():
        if owner != role or not frames:
            continue
        total += count
        names = [frame_name(frame) for frame in frames]
        own[names[-1]] += count
        packages[names[-1].split("/", 1)[0].split(".py:", 1)[0]] += count
        for name in set(names):
            inclusive[name] += count
    shown = Counter({n: c for n, c in inclusive.items() if c <= COMMON_SHARE * total})
    return ProcessProfile(
        role=role,
        samples=total,
        self_share=_shares(own, total, top),
        inclusive_share=_shares(shown, total, top),
        package_share=_shares(packages, total, top),
    )


def _shares(counts: Counter[str], total: int, top: int) -> list[tuple[str, float]]:
    """The `top` largest counts as shares of `total`."""
    return [(name, count / total) for name, count in counts.most_common(top)]


def format_profile(workload: Workload, profiles: list[ProcessProfile]) -> str:
    """The summary as text, one block per process role."""
    lines = [f"== {workload.description}"]
    for profile in profiles:
        lines.append(f"-- {profile.role}: {profile.samples} samples at {RATE}/s")
        lines.append("   self:")
        lines += [f"   {share:6.1%}  {name}" for name, share in profile.self_share]
        lines.append("   inclusive:")
        lines += [f"   {share:6.1%}  {name}" for name, share in profile.inclusive_share]
        lines.append("   self, by package:")
        lines += [f"   {share:6.1%}  {name}" for name, share in profile.package_share]
    return "\n".join(lines)
