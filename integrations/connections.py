"""Named connections for `http:invoke`: what EventBridge connections hold on AWS.

On AWS an HTTP Task names an EventBridge connection (`Authentication.ConnectionArn` or
`InvocationConfig.ConnectionArn`) holding the credentials and any extra headers, query
parameters and body fields. Here connections live in the settings, by name:

    [connections.billing]
    authorization_type = "BASIC"            # BASIC | API_KEY | OAUTH_CLIENT_CREDENTIALS
    username = "svc-stepline"
    password_env = "BILLING_PASSWORD"       # any secret may come from the environment
    [connections.billing.headers]
    X-Tenant = "acme"

A ConnectionArn `arn:aws:events:REGION:ACCOUNT:connection/billing/UUID` (or just `billing`)
names the connection `billing`. Secrets never appear in reprs, logs, history or outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

BASIC = "BASIC"
API_KEY = "API_KEY"
OAUTH = "OAUTH_CLIENT_CREDENTIALS"
NONE = "NONE"
_TYPES = (BASIC, API_KEY, OAUTH, NONE)

_SECRETS = ("password", "api_key_value", "client_secret")
_STRINGS = (
    "authorization_type", "username", "api_key_name", "authorization_endpoint",
    "http_method", "client_id", *_SECRETS,
)
_TABLES = ("headers", "query", "body", "oauth_headers", "oauth_query", "oauth_body")
_REQUIRED = {
    BASIC: ("username", "password"),
    API_KEY: ("api_key_name", "api_key_value"),
    OAUTH: ("authorization_endpoint", "client_id", "client_secret"),
    NONE: (),
}


@dataclass(frozen=True)
class OAuthClient:
    """OAuth client-credentials grant: where to get a token and with what."""

    endpoint: str
    client_id: str
    client_secret: str = field(repr=False)
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Connection:
    """One named connection: an authorization scheme plus invocation parameters."""

    name: str
    authorization_type: str = NONE
    username: str = ""
    password: str = field(default="", repr=False)
    api_key_name: str = ""
    api_key_value: str = field(default="", repr=False)
    oauth: OAuthClient | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Header parameters: added to (and winning over) the task's Headers."""
    query: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Query string parameters: added to (and winning over) the task's QueryParameters."""
    body: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Body parameters: merged into (and winning over) the task's RequestBody."""


def connection_name(reference: str) -> str:
    """`arn:aws:events:...:connection/NAME/UUID`, `connection/NAME` or `NAME` -> `NAME`."""
    _, marker, rest = reference.partition("connection/")
    return rest.split("/", 1)[0] if marker else reference


def parse_connections(
    raw: Mapping[str, Any], environ: Mapping[str, str]
) -> dict[str, Connection]:
    """Connections from the settings' `connections` table; ValueError says what is wrong.

    A `NAME_env = "VAR"` key reads the value of `NAME` from the environment variable VAR.
    """
    if not isinstance(raw, Mapping):
        raise ValueError("connections must be a table of connection tables")
    return {name: _parse_one(str(name), table, environ) for name, table in raw.items()}


def _parse_one(name: str, table: Any, environ: Mapping[str, str]) -> Connection:
    where = f"connections.{name}"
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a table")
    values = _resolve_env(where, table, environ)
    unknown = sorted(set(values) - set(_STRINGS) - set(_TABLES))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kind = str(values.get("authorization_type", NONE)).upper()
    if kind not in _TYPES:
        raise ValueError(f"{where}.authorization_type must be one of {', '.join(_TYPES)}")
    missing = [key for key in _REQUIRED[kind] if not values.get(key)]
    if missing:
        raise ValueError(f"{where}: {kind} needs {', '.join(missing)}")
    tables = {key: _string_table(f"{where}.{key}", values.get(key, {})) for key in _TABLES}
    oauth = None
    if kind == OAUTH:
        oauth = OAuthClient(
            endpoint=str(values["authorization_endpoint"]),
            client_id=str(values["client_id"]),
            client_secret=str(values["client_secret"]),
            method=str(values.get("http_method", "POST")).upper(),
            headers=tables["oauth_headers"],
            query=tables["oauth_query"],
            body=tables["oauth_body"],
        )
    return Connection(
        name=name,
        authorization_type=kind,
        username=str(values.get("username", "")),
        password=str(values.get("password", "")),
        api_key_name=str(values.get("api_key_name", "")),
        api_key_value=str(values.get("api_key_value", "")),
        oauth=oauth,
        headers=tables["headers"],
        query=tables["query"],
        body=tables["body"],
    )


def _resolve_env(
    where: str, table: Mapping[str, Any], environ: Mapping[str, str]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key.endswith("_env") and key[:-4] in _STRINGS:
            if value not in environ:
                raise ValueError(f"{where}.{key}: environment variable {value} is not set")
            values[key[:-4]] = environ[value]
        else:
            values[key] = value
    return values


def _string_table(where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a table of names to values")
    return {str(k): v if isinstance(v, str) else _scalar_text(where, v) for k, v in value.items()}


def _scalar_text(where: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise ValueError(f"{where}: values must be strings, numbers or booleans")
