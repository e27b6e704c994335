"""`arn:aws:states:::http:invoke`: call an HTTP(S) API, as Step Functions' HTTP Task does.

Parameters (AWS's): `ApiEndpoint`, `Method`, `Authentication.ConnectionArn` or
`InvocationConfig.ConnectionArn` (a named connection in the settings, see connections.py),
`Headers`, `QueryParameters`, `RequestBody`, and `Transform` (`RequestBodyEncoding`
`NONE`/`URL_ENCODED`, `RequestEncodingOptions.ArrayFormat`
`INDICES`/`REPEAT`/`COMMAS`/`BRACKETS`). The connection's headers, query parameters and
body fields are merged in and win over the task's, as on AWS.

The result is `{"Headers": {name: [values]}, "ResponseBody": ..., "StatusCode": N,
"StatusText": "..."}` with a JSON body parsed. A non-2xx answer fails the task with
`States.Http.StatusCode.N` (its cause is that result as JSON); no answer within 60 seconds
(or the state's TimeoutSeconds, if shorter), or no connection at all, fails it with
`States.Http.Socket`. Invalid parameters, forbidden headers and binary answers fail it
with `States.Runtime`, as AWS documents.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from integrations.connections import Connection, connection_name
from integrations.http_auth import CONNECTION_ERROR, TokenCache, auth_headers
from integrations.patterns import unsupported_pattern
from integrations.settings import SettingsSource
from scheduler.asl.errors import ErrorName, StatesError

HTTP_INVOKE = "arn:aws:states:::http:invoke"
MAX_SECONDS = 60.0
"""AWS: HTTP Task requests time out after 60 seconds."""
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
ARRAY_FORMATS = ("INDICES", "REPEAT", "COMMAS", "BRACKETS")
FORBIDDEN_HEADERS = frozenset(
    name.lower()
    for name in (
        "A-IM", "Accept-Charset", "Accept-Datetime", "Accept-Encoding", "Authorization",
        "Cache-Control", "Connection", "Content-Encoding", "Content-MD5", "Date", "Expect",
        "Forwarded", "From", "Host", "HTTP2-Settings", "If-Match", "If-Modified-Since",
        "If-None-Match", "If-Range", "If-Unmodified-Since", "Max-Forwards", "Origin",
        "Pragma", "Proxy-Authorization", "Referer", "Server", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Via", "Warning",
    )
)
FORBIDDEN_PREFIXES = ("x-forwarded-", "x-amz-", "x-amzn-")
_BINARY_TYPES = ("image/", "video/", "audio/", "application/octet-stream")

# httpx logs every request's full URL at INFO, and a connection's query parameters (an API
# key, say) are part of it: secrets must never reach a log.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class Exchange:
    """One HTTP Task call as TestState's TRACE inspection shows it: the request sent,
    the same request without what a connection added (its secrets), and the response."""

    request: Request
    public: Request
    response: httpx.Response | None = None


TRACE: ContextVar[list[Exchange] | None] = ContextVar("stepline_http_trace", default=None)
"""Set to a list (by TestState) to have this context's HTTP Task calls recorded in it."""


def runtime_error(cause: str) -> StatesError:
    return StatesError(ErrorName.RUNTIME, cause)


class HttpInvoke:
    """The `http:invoke` integration: `integration(resource, payload, timeout_seconds)`."""

    def __init__(self, settings: SettingsSource, region: str) -> None:
        self._settings = settings
        self._region = region
        self._tokens = TokenCache()
        self._client = httpx.Client(follow_redirects=False)

    def __call__(self, resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        if resource != HTTP_INVOKE:
            raise unsupported_pattern(resource, resource[len(HTTP_INVOKE) :])
        if not isinstance(payload, dict):
            raise runtime_error("http:invoke needs Parameters that are a JSON object")
        timeout = min(MAX_SECONDS, timeout_seconds or MAX_SECONDS)
        connection = self._connection(payload)
        request = build_request(payload, connection)
        extra = {"User-Agent": f"Stepline|HttpInvoke|{self._region}", "Range": "bytes=0-262144"}
        exchange = self._traced(payload, request, extra)
        if connection is not None:
            extra.update(auth_headers(connection, self._tokens, self._client, timeout))
        request.headers = _merge_headers(list(request.headers.items()), extra)
        return send(self._client, request, timeout, exchange)

    def _traced(
        self, payload: dict[str, Any], request: Request, extra: dict[str, str]
    ) -> Exchange | None:
        """The Exchange recording this call, when TRACE asks for one."""
        trace = TRACE.get()
        if trace is None:
            return None
        public = build_request(payload, None)
        public.headers = _merge_headers(list(public.headers.items()), extra)
        trace.append(Exchange(request, public))
        return trace[-1]

    def _connection(self, payload: dict[str, Any]) -> Connection | None:
        arn = connection_arn(payload)
        if arn is None:
            return None
        name = connection_name(arn)
        connection = self._settings().connections.get(name)
        if connection is None:
            raise StatesError(
                CONNECTION_ERROR + "ResourceNotFound",
                f"No connection named '{name}' is configured (ConnectionArn '{arn}'); "
                "add it under [connections] in the config file",
            )
        return connection

    def close(self) -> None:
        self._client.close()


def connection_arn(payload: Mapping[str, Any]) -> str | None:
    """The ConnectionArn of `Authentication` or `InvocationConfig`, or None."""
    for key in ("InvocationConfig", "Authentication"):
        block = payload.get(key)
        if isinstance(block, Mapping) and isinstance(block.get("ConnectionArn"), str):
            return str(block["ConnectionArn"])
        if block is not None and not isinstance(block, Mapping):
            raise runtime_error(f"{key} must be an object with a ConnectionArn")
    return None


class Request:
    """An HTTP request being put together: method, URL, headers, query, body."""

    def __init__(self, method: str, url: str) -> None:
        self.method = method
        self.url = url
        self.headers: dict[str, str] = {}
        self.query: list[tuple[str, str]] = []
        self.body: bytes | None = None


def build_request(payload: Mapping[str, Any], connection: Connection | None) -> Request:
    """The request the task's parameters and its connection describe (no credentials yet)."""
    endpoint = payload.get("ApiEndpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        raise runtime_error("ApiEndpoint must be an http:// or https:// URL")
    method = payload.get("Method")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise runtime_error(f"Method must be one of {', '.join(METHODS)}, not {method!r}")
    request = Request(method.upper(), endpoint)
    headers = name_values("Headers", payload.get("Headers"))
    for name, _ in headers:
        if name.lower() in FORBIDDEN_HEADERS or name.lower().startswith(FORBIDDEN_PREFIXES):
            raise runtime_error(f"The header '{name}' can't be used in an HTTP Task")
    request.headers = _merge_headers(headers, connection.headers if connection else {})
    query = name_values("QueryParameters", payload.get("QueryParameters"))
    request.query = _merge_query(query, connection.query if connection else {})
    body = _merge_body(payload.get("RequestBody"), connection.body if connection else {})
    encoding, array_format = _transform(payload.get("Transform"))
    request.body = encode_body(body, encoding, array_format, request.headers)
    return request


def name_values(field_name: str, value: Any) -> list[tuple[str, str]]:
    """Headers or query parameters given as an object, a list of {Key, Value}, or a string."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            items = item if isinstance(item, list) else [item]
            pairs.extend((str(key), scalar_text(v)) for v in items)
        return pairs
    if isinstance(value, list) and all(
        isinstance(v, Mapping) and "Key" in v and "Value" in v for v in value
    ):
        return [(str(v["Key"]), scalar_text(v["Value"])) for v in value]
    if isinstance(value, str) and field_name == "QueryParameters":
        return list(httpx.QueryParams(value.lstrip("?")).multi_items())
    raise runtime_error(f"{field_name} must be a JSON object")


def scalar_text(value: Any) -> str:
    """How a JSON value reads in a header, a query string or a form field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _merge_headers(task: list[tuple[str, str]], connection: Mapping[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in task:
        existing = merged.get(name)
        merged[name] = value if existing is None else f"{existing},{value}"
    for name, value in connection.items():
        for other in [n for n in merged if n.lower() == name.lower()]:
            del merged[other]
        merged[name] = value
    return merged


def _merge_query(
    task: list[tuple[str, str]], connection: Mapping[str, str]
) -> list[tuple[str, str]]:
    return [(k, v) for k, v in task if k not in connection] + list(connection.items())


def _merge_body(body: Any, connection: Mapping[str, str]) -> Any:
    if not connection:
        return body
    if isinstance(body, str):
        raise runtime_error(
            "The RequestBody is a string and the connection has body parameters: "
            "they can't be merged"
        )
    if body is None:
        return dict(connection)
    if not isinstance(body, dict):
        raise runtime_error("The RequestBody must be an object to merge the connection's body")
    return {**body, **connection}


def encode_body(
    body: Any, encoding: str, array_format: str, headers: dict[str, str]
) -> bytes | None:
    """The request body: JSON, a string as it is, or form-encoded (`URL_ENCODED`)."""
    if body is None:
        return None
    content_type = next((n for n in headers if n.lower() == "content-type"), None)
    if encoding == "URL_ENCODED" and isinstance(body, dict):
        if content_type is None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return form_encode(body, array_format).encode("utf-8")
    if encoding == "URL_ENCODED" and not isinstance(body, str):
        raise runtime_error("RequestBodyEncoding URL_ENCODED needs a RequestBody object")
    if content_type is None:
        headers["Content-Type"] = "application/json; charset=UTF-8"
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _transform(transform: Any) -> tuple[str, str]:
    if transform is None:
        return "NONE", "INDICES"
    if not isinstance(transform, Mapping):
        raise runtime_error("Transform must be an object")
    encoding = transform.get("RequestBodyEncoding", "NONE")
    if encoding not in ("NONE", "URL_ENCODED"):
        raise runtime_error(f"RequestBodyEncoding must be NONE or URL_ENCODED, not {encoding!r}")
    options = transform.get("RequestEncodingOptions") or {}
    array_format = options.get("ArrayFormat", "INDICES") if isinstance(options, Mapping) else None
    if array_format not in ARRAY_FORMATS:
        raise runtime_error(
            f"ArrayFormat must be one of {', '.join(ARRAY_FORMATS)}, not {array_format!r}"
        )
    return str(encoding), str(array_format)


def form_encode(body: Mapping[str, Any], array_format: str = "INDICES") -> str:
    """`application/x-www-form-urlencoded` text of an object, arrays as `array_format` says:
    INDICES `a[0]=x&a[1]=y`, REPEAT `a=x&a=y`, COMMAS `a=x,y`, BRACKETS `a[]=x&a[]=y`;
    nested objects as `a[b]=x`. Spaces become `%20`, as in AWS's example."""
    pairs: list[tuple[str, str]] = []
    for key, value in body.items():
        _flatten(str(key), value, array_format, pairs)
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def _flatten(key: str, value: Any, array_format: str, pairs: list[tuple[str, str]]) -> None:
    if isinstance(value, Mapping):
        for sub, item in value.items():
            _flatten(f"{key}[{sub}]", item, array_format, pairs)
    elif isinstance(value, list):
        if array_format == "COMMAS":
            pairs.append((key, ",".join(scalar_text(item) for item in value)))
            return
        for index, item in enumerate(value):
            name = {"INDICES": f"{key}[{index}]", "REPEAT": key}.get(array_format, f"{key}[]")
            _flatten(name, item, array_format, pairs)
    else:
        pairs.append((key, scalar_text(value)))


def send(
    client: httpx.Client, request: Request, timeout: float, exchange: Exchange | None = None
) -> dict[str, Any]:
    """Send the request; the task's result, or the StatesError AWS would raise."""
    url = httpx.URL(request.url)
    if request.query:
        url = url.copy_merge_params(tuple(request.query))
    try:
        response = client.request(
            request.method, url, headers=request.headers, content=request.body, timeout=timeout
        )
    except httpx.TimeoutException:
        raise StatesError(
            "States.Http.Socket", f"The request to {url.host} timed out after {timeout:g} seconds"
        ) from None
    except httpx.HTTPError as exc:
        raise StatesError(
            "States.Http.Socket",
            f"The request to {url.host} failed: {type(exc).__name__}: {_reason(exc)}",
        ) from None
    if exchange is not None:
        exchange.response = response
    result = response_result(response)
    if not 200 <= response.status_code < 300:
        raise StatesError(
            f"States.Http.StatusCode.{response.status_code}",
            json.dumps(result, separators=(",", ":"), ensure_ascii=False),
        )
    return result


def _reason(exc: httpx.HTTPError) -> str:
    """The underlying reason without the URL (whose query may hold a connection's key)."""
    cause = exc.__cause__ or exc.__context__
    text = str(cause if cause is not None else exc)
    return text.split(" for url ", 1)[0]


def response_result(response: httpx.Response) -> dict[str, Any]:
    """`{Headers, ResponseBody, StatusCode, StatusText}` as the HTTP Task returns it."""
    content_type = response.headers.get("content-type", "").lower()
    if content_type.startswith(_BINARY_TYPES):
        raise runtime_error(f"The response has an unsupported content type: {content_type}")
    try:
        text = response.content.decode(response.encoding or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise runtime_error("The response body can't be read as a valid string") from None
    body: Any = text
    media = content_type.split(";", 1)[0].strip()
    if media == "application/json" or media.endswith("+json"):
        try:
            body = json.loads(text)
        except ValueError:
            body = text
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.multi_items():
        headers.setdefault(name.lower(), []).append(value)
    return {
        "Headers": headers,
        "ResponseBody": body,
        "StatusCode": response.status_code,
        "StatusText": response.reason_phrase,
    }
