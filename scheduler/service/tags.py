"""Tags on state machines and activities. Keys, in the `KeyValue` store: `tags/ARN`."""

from __future__ import annotations

from scheduler.service.errors import TooManyTags
from scheduler.service.kv import KeyValue

MAX_TAGS = 50


class Tags:
    """Key-value tags per resource ARN (the caller checks that the resource exists)."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    def of(self, arn: str) -> dict[str, str]:
        """The resource's tags."""
        found = self.kv.get(f"tags/{arn}")
        return dict(found) if isinstance(found, dict) else {}

    def add(self, arn: str, tags: dict[str, str]) -> None:
        """Add or overwrite tags; TooManyTags past 50 on one resource."""
        merged = {**self.of(arn), **tags}
        if len(merged) > MAX_TAGS:
            name = arn.rsplit(":", 1)[-1]
            raise TooManyTags(
                f"Too many tags: a resource can have at most {MAX_TAGS} tags", resourceName=name
            )
        if merged:
            self.kv.put(f"tags/{arn}", merged)

    def remove(self, arn: str, keys: list[str]) -> None:
        """Remove tags by key (keys it does not have are ignored)."""
        remaining = {k: v for k, v in self.of(arn).items() if k not in set(keys)}
        self.kv.put(f"tags/{arn}", remaining)

    def drop(self, arn: str) -> None:
        """Forget every tag of a deleted resource."""
        self.kv.delete(f"tags/{arn}")
