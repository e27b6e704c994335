"""Formatting history events as GetExecutionHistory returns them.

Events keep Python values; AWS returns inputs, outputs and parameters as JSON strings
with `*Details: {truncated}` beside them, under a `<eventType>EventDetails` member.
"""

from __future__ import annotations

import json
from typing import Any

from scheduler.engine.records import Event

_PAYLOAD_FIELDS = ("input", "output")


def details_key(event_type: str) -> str:
    """The member holding an event's details: `PassStateEntered` -> `stateEnteredEventDetails`."""
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def format_details(details: dict[str, Any]) -> dict[str, Any]:
    """JSON-encode payload fields and add their `*Details` siblings."""
    formatted: dict[str, Any] = {}
    for key, value in details.items():
        if key in _PAYLOAD_FIELDS:
            formatted[key] = _json(value)
            formatted[key + "Details"] = {"truncated": False}
        elif key == "parameters":
            formatted[key] = _json(value)
        elif key == "assignedVariables":
            formatted[key] = {name: _json(v) for name, v in value.items()}
            formatted["assignedVariablesDetails"] = {"truncated": False}
        else:
            formatted[key] = value
    return formatted


def to_aws_event(event: Event) -> dict[str, Any]:
    """One event as a GetExecutionHistory `events` entry (timestamp in epoch seconds)."""
    entry: dict[str, Any] = {
        "timestamp": event.timestamp,
        "type": event.type,
        "id": event.id,
        "previousEventId": event.previous_id,
    }
    if event.details is not None:
        entry[details_key(event.type)] = format_details(event.details)
    return entry
