"""TestState's TRACE view of an HTTP Task: the raw request sent and the response.

`integrations.http` records each call made in a context whose `TRACE` is set. Without
`revealSecrets`, the request shown is the one the Task's own parameters describe: what
the connection adds (its authorization, headers, query parameters and body fields) is
left out, as AWS leaves it out. Headers are JSON text (`{"Name": "value"}`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from integrations.http import HTTP_INVOKE, TRACE, Exchange, Request

Call = Callable[[str, Any, float | None], Any]


def traced_call(
    call_task: Call, resource: str, payload: Any, timeout: float | None, into: list[Exchange]
) -> Any:
    """Call the Task's resource; an HTTP Task's exchanges are appended to `into`."""
    if resource != HTTP_INVOKE:
        return call_task(resource, payload, timeout)
    token = TRACE.set(into)
    try:
        return call_task(resource, payload, timeout)
    finally:
        TRACE.reset(token)


def _headers(pairs: list[tuple[str, str]]) -> str:
    merged: dict[str, str] = {}
    for name, value in pairs:
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return json.dumps(merged, ensure_ascii=False)


def _request(request: Request) -> dict[str, Any]:
    url = httpx.URL(request.url)
    if request.query:
        url = url.copy_merge_params(tuple(request.query))
    return {
        "protocol": url.scheme,
        "method": request.method,
        "url": str(url),
        "headers": _headers(list(request.headers.items())),
        "body": (request.body or b"").decode("utf-8", errors="replace"),
    }


def _response(response: httpx.Response) -> dict[str, Any]:
    return {
        "protocol": response.url.scheme,
        "statusCode": str(response.status_code),
        "statusMessage": response.reason_phrase,
        "headers": _headers(list(response.headers.multi_items())),
        "body": response.content.decode("utf-8", errors="replace"),
    }


def render(exchange: Exchange, reveal_secrets: bool) -> dict[str, Any]:
    """The `request` and `response` members of inspectionData."""
    shown = {"request": _request(exchange.request if reveal_secrets else exchange.public)}
    if exchange.response is not None:
        shown["response"] = _response(exchange.response)
    return shown
