"""`KeyValue` on Redis: each operation is one command (GET, SET, SET NX, DEL, SCAN+MGET,
INCR), so several API processes can share one registry."""

from __future__ import annotations

import json
import re
from typing import Any

import redis

DEFAULT_PREFIX = "stepline:registry:"
_GLOB_SPECIALS = re.compile(r"([*?\[\]\\])")


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class RedisKV:
    """JSON values under `prefix + key` in Redis."""

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self.client = client
        self.prefix = prefix

    def get(self, key: str) -> Any | None:
        raw = self.client.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    def put(self, key: str, value: Any) -> None:
        self.client.set(self.prefix + key, json.dumps(value))

    def add(self, key: str, value: Any) -> bool:
        return bool(self.client.set(self.prefix + key, json.dumps(value), nx=True))

    def delete(self, key: str) -> bool:
        return bool(self.client.delete(self.prefix + key))

    def scan(self, prefix: str) -> list[tuple[str, Any]]:
        pattern = _GLOB_SPECIALS.sub(r"\\\1", self.prefix + prefix) + "*"
        keys = sorted(_text(k) for k in self.client.scan_iter(match=pattern, count=1000))
        if not keys:
            return []
        values = self.client.mget(keys)
        start = len(self.prefix)
        return [
            (key[start:], json.loads(raw))
            for key, raw in zip(keys, values, strict=True)
            if raw is not None
        ]

    def incr(self, key: str) -> int:
        return int(self.client.incr(self.prefix + key))
