"""Prometheus metrics: API requests by action, executions started and finished.

Each app gets its own registry, so several apps (tests) never collide.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from scheduler.engine.records import ExecutionRecord


class Metrics:
    """The API's counters and histograms."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stepline_api_requests",
            "API requests by action and result (OK or the AWS error code).",
            ["action", "result"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "stepline_api_request_duration_seconds",
            "Time to answer an API request, by action.",
            ["action"],
            registry=self.registry,
        )
        self.started = Counter(
            "stepline_executions_started",
            "Executions started through the API, by state machine type.",
            ["type"],
            registry=self.registry,
        )
        self.finished = Counter(
            "stepline_executions_finished",
            "Executions that ended, by final status and state machine type.",
            ["status", "type"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "stepline_execution_duration_seconds",
            "Start to end of executions, by final status.",
            ["status"],
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400),
        )

    def execution_ended(self, record: ExecutionRecord) -> None:
        """An engine end listener."""
        status = record.status.value
        self.finished.labels(status, record.type.value).inc()
        if record.stop_date is not None:
            self.duration.labels(status).observe(max(0.0, record.stop_date - record.start_date))

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
