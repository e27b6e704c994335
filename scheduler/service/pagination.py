"""`maxResults` / `nextToken` paging, as every List* action and GetExecutionHistory do it.

A token names the sort key of the last item handed out (and the listing it belongs to),
so a page picks up exactly after it even when items were added or removed in between.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from scheduler.service.errors import InvalidToken

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page(
    items: Sequence[T],
    sort_key: Callable[[T], list[Any]],
    *,
    scope: str,
    max_results: int | None = None,
    token: str | None = None,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """One page of `items` (already sorted by `sort_key`) and the token for the next.

    `scope` names the listing (action and resource), so a token from another listing is
    refused with InvalidToken. `max_results` 0 or None means 100, as on AWS.
    """
    size = max_results or DEFAULT_PAGE_SIZE
    start = 0
    if token is not None:
        after = _decode(token, scope)
        start = next(
            (
                i
                for i, item in enumerate(items)
                if (sort_key(item) < after if descending else sort_key(item) > after)
            ),
            len(items),
        )
    chunk = list(items[start : start + size])
    more = start + size < len(items)
    return chunk, (_encode(scope, sort_key(chunk[-1])) if more and chunk else None)


def encode_token(scope: str, key: list[Any]) -> str:
    """A `nextToken` for the listing `scope`, holding `key` (JSON values)."""
    return _encode(scope, key)


def decode_token(token: str, scope: str) -> list[Any]:
    """The key a token of the listing `scope` holds; InvalidToken if it holds none."""
    return _decode(token, scope)


def _encode(scope: str, key: list[Any]) -> str:
    text = json.dumps({"s": scope, "k": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode(token: str, scope: str) -> list[Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidToken(f"Invalid Token: '{token}'") from exc
    if not isinstance(data, dict) or data.get("s") != scope or not isinstance(data.get("k"), list):
        raise InvalidToken(f"Invalid Token: '{token}'")
    key: list[Any] = data["k"]
    return key
