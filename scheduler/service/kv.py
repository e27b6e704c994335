"""The registry's persistence: a tiny key-value contract over JSON values.

State machines, revisions, versions, aliases, activities, tags and execution metadata are
JSON documents under string keys. The contract is six operations, each a single command
on Redis (GET, SET, SET NX, DEL, SCAN MATCH prefix*, INCR), so a Redis implementation is
a small addition beside `MemoryKV`.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol


class KeyValue(Protocol):
    """JSON values under string keys."""

    def get(self, key: str) -> Any | None:
        """The value under `key`, or None."""

    def put(self, key: str, value: Any) -> None:
        """Store `value` under `key`, replacing what was there."""

    def add(self, key: str, value: Any) -> bool:
        """Store `value` only if `key` is free; False (and nothing stored) if it is taken."""

    def delete(self, key: str) -> bool:
        """Remove `key`; False if it was not there."""

    def scan(self, prefix: str) -> list[tuple[str, Any]]:
        """Every (key, value) whose key starts with `prefix`, in key order."""

    def incr(self, key: str) -> int:
        """Atomically add one to the counter under `key` (from 0) and return it."""


class MemoryKV:
    """`KeyValue` in this process's memory. Values are kept as JSON text, so callers
    never share mutable objects with the store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, str] = {}

    def get(self, key: str) -> Any | None:
        text = self._data.get(key)
        return None if text is None else json.loads(text)

    def put(self, key: str, value: Any) -> None:
        text = json.dumps(value)
        with self._lock:
            self._data[key] = text

    def add(self, key: str, value: Any) -> bool:
        text = json.dumps(value)
        with self._lock:
            if key in self._data:
                return False
            self._data[key] = text
            return True

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._data.pop(key, None) is not None

    def scan(self, prefix: str) -> list[tuple[str, Any]]:
        with self._lock:
            found = sorted((k, v) for k, v in self._data.items() if k.startswith(prefix))
        return [(k, json.loads(v)) for k, v in found]

    def incr(self, key: str) -> int:
        with self._lock:
            value = int(self._data.get(key, "0")) + 1
            self._data[key] = str(value)
            return value
