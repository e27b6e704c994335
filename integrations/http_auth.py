"""Authorizing an `http:invoke` request with its connection: Basic, API key, or an OAuth
client-credentials token fetched (and cached until shortly before it expires) the way
EventBridge connections do. Failures never quote a secret."""

from __future__ import annotations

import base64
import threading
import time

import httpx

from integrations.connections import API_KEY, BASIC, OAUTH, Connection, OAuthClient
from scheduler.asl.errors import StatesError

CONNECTION_ERROR = "Events.ConnectionResource."


class TokenCache:
    """OAuth access tokens per connection, fetched when missing or about to expire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    def token(self, connection: Connection, client: httpx.Client, timeout: float) -> str:
        """A current access token for the connection's OAuth client."""
        assert connection.oauth is not None
        with self._lock:
            cached = self._tokens.get(connection.name)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        token, lifetime = _fetch_token(connection.oauth, client, timeout)
        with self._lock:
            self._tokens[connection.name] = (token, time.monotonic() + max(lifetime - 30, 0))
        return token


def _fetch_token(oauth: OAuthClient, client: httpx.Client, timeout: float) -> tuple[str, float]:
    """POST the client-credentials grant; the client id and secret go as Basic auth."""
    credentials = base64.b64encode(f"{oauth.client_id}:{oauth.client_secret}".encode()).decode()
    form = {"grant_type": "client_credentials", **oauth.body}
    headers = {**oauth.headers, "Authorization": f"Basic {credentials}"}
    host = httpx.URL(oauth.endpoint).host
    try:
        response = client.request(
            oauth.method, oauth.endpoint, params=dict(oauth.query), data=form,
            headers=headers, timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise _invalid_state(
            f"the OAuth token request to {host} failed: {type(exc).__name__}"
        ) from None
    if not response.is_success:
        raise _invalid_state(
            f"the OAuth token request to {host} was refused: HTTP {response.status_code}"
        )
    try:
        answer = response.json()
        token = str(answer["access_token"])
    except (ValueError, KeyError, TypeError):
        raise _invalid_state(f"the OAuth token response from {host} has no access_token") from None
    try:
        lifetime = float(answer.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600.0
    return token, lifetime


def _invalid_state(cause: str) -> StatesError:
    return StatesError(CONNECTION_ERROR + "InvalidConnectionState", cause)


def auth_headers(
    connection: Connection, tokens: TokenCache, client: httpx.Client, timeout: float
) -> dict[str, str]:
    """The headers that authorize a request with `connection`."""
    if connection.authorization_type == BASIC:
        pair = f"{connection.username}:{connection.password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    if connection.authorization_type == API_KEY:
        return {connection.api_key_name: connection.api_key_value}
    if connection.authorization_type == OAUTH:
        return {"Authorization": "Bearer " + tokens.token(connection, client, timeout)}
    return {}
