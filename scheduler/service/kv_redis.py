"""`KeyValue` on Redis, so several API processes share one registry.

Keys are `kind/rest` (`sm/NAME`, `ver/NAME/000000001`, `exec/ARN`, ...). Each kind is one
Redis hash (`PREFIX + kind`, field `rest`), so every operation is one command (HGET, HSET,
HSETNX, HDEL, HINCRBY) and a scan walks only its own kind's hash (HSCAN), never the whole
keyspace, which on a cluster holds several keys per execution.
"""

from __future__ import annotations

import json
import re
from typing import Any

import redis

DEFAULT_PREFIX = "stepline:registry:"
_GLOB_SPECIALS = re.compile(r"([*?\[\]\\])")


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _glob(literal: str) -> str:
    """A glob pattern matching `literal` followed by anything."""
    return _GLOB_SPECIALS.sub(r"\\\1", literal) + "*"


class RedisKV:
    """JSON values in one Redis hash per key kind, under `prefix`."""

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> None:
        # Replies are bytes or str depending on the client's decode_responses; both do.
        self.client: Any = client
        self.prefix = prefix

    def _where(self, key: str) -> tuple[str, str]:
        """The hash and the field holding `key`."""
        kind, _, rest = key.partition("/")
        return self.prefix + kind, rest

    def get(self, key: str) -> Any | None:
        raw = self.client.hget(*self._where(key))
        return None if raw is None else json.loads(raw)

    def put(self, key: str, value: Any) -> None:
        self.client.hset(*self._where(key), json.dumps(value))

    def add(self, key: str, value: Any) -> bool:
        return bool(self.client.hsetnx(*self._where(key), json.dumps(value)))

    def delete(self, key: str) -> bool:
        return bool(self.client.hdel(*self._where(key)))

    def incr(self, key: str) -> int:
        return int(self.client.hincrby(*self._where(key), 1))

    def scan(self, prefix: str) -> list[tuple[str, Any]]:
        if "/" in prefix:
            kind, _, rest = prefix.partition("/")
            found = self._scan_hash(kind, rest)
        else:  # a prefix of kinds: every hash whose kind starts with it
            found = []
            for name in self.client.scan_iter(match=_glob(self.prefix + prefix), count=1000):
                found += self._scan_hash(_text(name)[len(self.prefix) :], "")
        return sorted(found)

    def _scan_hash(self, kind: str, rest: str) -> list[tuple[str, Any]]:
        return [
            (f"{kind}/{_text(field)}" if field else kind, json.loads(raw))
            for field, raw in self.client.hscan_iter(
                self.prefix + kind, match=_glob(rest), count=1000
            )
        ]
