"""Named connections and AWS endpoints in the settings: parsing, secrets from the
environment, secrets kept out of reprs, and the config file and environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.connections import connection_name, parse_connections
from integrations.settings import IntegrationSettings
from scheduler.config import ConfigError, load_settings


def test_a_connection_arn_names_a_connection() -> None:
    arn = "arn:aws:events:us-east-2:123456789012:connection/Stripe/81210c42-8af1-456b"
    assert connection_name(arn) == "Stripe"
    assert connection_name("arn:aws:events:us-east-2:1:connection/Stripe") == "Stripe"
    assert connection_name("Stripe") == "Stripe"


def test_each_authorization_type_parses() -> None:
    connections = parse_connections({
        "b": {"authorization_type": "basic", "username": "u", "password": "p"},
        "k": {"authorization_type": "API_KEY", "api_key_name": "X-Key", "api_key_value": "v",
              "headers": {"X-Tenant": "acme", "X-Retries": 3}},
        "o": {"authorization_type": "OAUTH_CLIENT_CREDENTIALS", "client_id": "id",
              "client_secret": "s", "authorization_endpoint": "https://auth.test/token",
              "oauth_body": {"scope": "a b"}},
        "n": {},
    }, {})
    assert connections["b"].authorization_type == "BASIC"
    assert connections["k"].headers == {"X-Tenant": "acme", "X-Retries": "3"}
    oauth = connections["o"].oauth
    assert oauth is not None and oauth.method == "POST" and oauth.body == {"scope": "a b"}
    assert connections["n"].authorization_type == "NONE"


def test_secrets_can_come_from_the_environment_and_never_show_in_reprs() -> None:
    connections = parse_connections(
        {"b": {"authorization_type": "BASIC", "username": "u", "password_env": "B_PASS"}},
        {"B_PASS": "hunter2-secret"},
    )
    assert connections["b"].password == "hunter2-secret"
    settings = IntegrationSettings(connections=connections)
    assert "hunter2" not in repr(connections["b"]) and "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"authorization_type": "BASIC", "username": "u"}, "BASIC needs password"),
        ({"authorization_type": "DIGEST"}, "authorization_type must be one of"),
        ({"authorization_type": "BASIC", "usr": "u"}, "unknown field(s) usr"),
        ({"password_env": "NOT_SET_ANYWHERE"}, "NOT_SET_ANYWHERE is not set"),
        ({"headers": {"X": ["list"]}}, "values must be strings"),
        ("BASIC", "must be a table"),
    ],
)
def test_bad_connections_say_what_is_wrong(table: object, problem: str) -> None:
    with pytest.raises(ValueError, match="connections.c") as caught:
        parse_connections({"c": table}, {})
    assert problem in str(caught.value)


def test_the_config_file_and_environment_give_endpoints_and_connections(tmp_path: Path) -> None:
    config = tmp_path / "stepline.toml"
    config.write_text(
        'aws_endpoint_url = "http://localstack:4566"\n'
        "[aws_endpoints]\n"
        's3 = "http://minio:9000"\n'
        "[connections.billing]\n"
        'authorization_type = "BASIC"\n'
        'username = "svc"\n'
        'password_env = "BILLING_PASSWORD"\n'
    )
    environ = {
        "STEPLINE_ENDPOINT_DYNAMODB": "http://dynamodb-local:8000",
        "STEPLINE_CONNECTIONS": '{"crm": {"authorization_type": "API_KEY", '
        '"api_key_name": "X-Key", "api_key_value": "k"}}',
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BILLING_PASSWORD", "pw")
        settings = load_settings(str(config), environ).integration_settings()
    assert settings.endpoint_for("s3") == "http://minio:9000"
    assert settings.endpoint_for("dynamodb") == "http://dynamodb-local:8000"
    assert settings.endpoint_for("sqs") == "http://localstack:4566"
    assert sorted(settings.connections) == ["crm"]  # the environment's table replaces the file's


def test_bad_connection_settings_are_config_errors(tmp_path: Path) -> None:
    config = tmp_path / "stepline.toml"
    config.write_text('[connections.billing]\nauthorization_type = "BASIC"\n')
    with pytest.raises(ConfigError, match="BASIC needs username, password"):
        load_settings(str(config), {})
    with pytest.raises(ConfigError, match="STEPLINE_CONNECTIONS must be a JSON object"):
        load_settings(None, {"STEPLINE_CONNECTIONS": "{not json"})
    config.write_text('connections = "nope"\n')
    with pytest.raises(ConfigError, match="must be a table of connection tables"):
        load_settings(str(config), {})


def test_defaults_reach_aws_itself() -> None:
    settings = load_settings(None, {}).integration_settings()
    assert settings.endpoint_for("dynamodb") is None and settings.connections == {}
