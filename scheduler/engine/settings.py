"""The engine's settings (the `Settings` object in scheduler/config.py builds them)."""

from __future__ import annotations

from dataclasses import dataclass

#: How long an Express execution kept without history keeps its end (for the
#: StartSyncExecution waiting for it, in any API process).
EXPRESS_RESULT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Engine knobs; every one has a working default."""

    region: str = "us-east-1"
    account: str = "123456789012"
    time_scale: float = 1.0
    """Multiplies every Wait, retry delay and timeout (0.01 makes tests 100x faster)."""
    max_payload_bytes: int = 256 * 1024
    """AWS's limit on inputs, outputs and results."""
    inline_budget: int = 1000
    """States applied in one step before the step yields to other work."""
    unknown_fields_are_errors: bool = True
    express_history: bool = True
    """Keep Express executions (record and history) once they end, as AWS does not;
    False keeps only the end, for `EXPRESS_RESULT_SECONDS`, so StartSyncExecution
    can hand back the result."""
    keep_finished: int = 10_000
    """Ended executions the embedded store keeps, the oldest forgotten first (0: all).
    AWS keeps them 90 days; an embedded server has only its memory."""
    express_in_one_step: bool = False
    """Run each Express execution inside one step with no per-transition persistence
    (the distributed configuration); the embedded engine runs it like any other."""
