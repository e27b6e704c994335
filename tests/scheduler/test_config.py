"""Settings: defaults < config file < environment < flags, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.config import ConfigError, Settings, load_settings


@pytest.fixture(autouse=True)
def empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, so no ./stepline.toml is picked up by accident."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def toml(folder: Path, text: str, name: str = "stepline.toml") -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def test_defaults_without_file_or_environment() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert (settings.region, settings.account) == ("us-east-1", "123456789012")
    assert settings.max_payload_bytes == 262144
    assert settings.time_scale == 1.0
    assert settings.unknown_fields == "error"
    assert settings.redis_url is None


def test_stepline_toml_in_the_working_directory_is_read(empty_dir: Path) -> None:
    toml(empty_dir, 'region = "eu-central-1"\ntime_scale = 0.5\n')
    settings = load_settings(environ={})
    assert settings.region == "eu-central-1"
    assert settings.time_scale == 0.5


def test_stepline_config_variable_names_the_file(empty_dir: Path) -> None:
    toml(empty_dir, 'region = "ignored-1"\n')
    other = toml(empty_dir, 'region = "sa-east-1"\n', "other.toml")
    assert load_settings(environ={"STEPLINE_CONFIG": other}).region == "sa-east-1"


def test_config_flag_beats_stepline_config_variable(empty_dir: Path) -> None:
    env_file = toml(empty_dir, 'region = "from-env-file"\n', "a.toml")
    flag_file = toml(empty_dir, 'region = "from-flag-file"\n', "b.toml")
    settings = load_settings(flag_file, environ={"STEPLINE_CONFIG": env_file})
    assert settings.region == "from-flag-file"


def test_precedence_file_then_environment_then_flags(empty_dir: Path) -> None:
    config = toml(empty_dir, 'region = "file-1"\naccount = "111111111111"\ntime_scale = 2\n'
                             'max_payload_bytes = 1000\n')
    env = {"STEPLINE_REGION": "env-1", "STEPLINE_TIME_SCALE": "3"}
    settings = load_settings(config, environ=env, time_scale=0.25)
    assert settings.account == "111111111111"  # only the file sets it
    assert settings.max_payload_bytes == 1000
    assert settings.region == "env-1"  # env beats file
    assert settings.time_scale == 0.25  # flag beats env and file


def test_a_flag_left_unset_does_not_override(empty_dir: Path) -> None:
    settings = load_settings(environ={"STEPLINE_TIME_SCALE": "0.1"}, time_scale=None)
    assert settings.time_scale == 0.1


def test_every_environment_variable() -> None:
    settings = load_settings(environ={
        "STEPLINE_REGION": "us-west-2",
        "STEPLINE_ACCOUNT": "210987654321",
        "STEPLINE_TIME_SCALE": "0.01",
        "STEPLINE_MAX_PAYLOAD_BYTES": "4096",
        "STEPLINE_UNKNOWN_FIELDS": "warn",
        "REDIS_URL": "redis://cache:6379/2",
    })
    assert settings == Settings(
        region="us-west-2", account="210987654321", time_scale=0.01, max_payload_bytes=4096,
        unknown_fields="warn", redis_url="redis://cache:6379/2",
    )


def test_an_empty_environment_variable_is_ignored(empty_dir: Path) -> None:
    toml(empty_dir, 'region = "file-1"\n')
    assert load_settings(environ={"STEPLINE_REGION": ""}).region == "file-1"


def test_express_history_from_the_file_and_the_environment(empty_dir: Path) -> None:
    assert load_settings(environ={}).express_history is True
    toml(empty_dir, "express_history = false\n")
    from_file = load_settings(environ={})
    assert from_file.express_history is False
    assert from_file.engine_settings().express_history is False
    for text, value in (("true", True), ("FALSE", False), ("1", True), ("no", False)):
        assert load_settings(environ={"STEPLINE_EXPRESS_HISTORY": text}).express_history is value


def test_keep_finished_executions_from_the_file_and_the_environment(empty_dir: Path) -> None:
    assert load_settings(environ={}).engine_settings().keep_finished == 10_000
    toml(empty_dir, "keep_finished_executions = 0\n")
    assert load_settings(environ={}).engine_settings().keep_finished == 0
    env = {"STEPLINE_KEEP_FINISHED_EXECUTIONS": "25"}
    assert load_settings(environ=env).keep_finished_executions == 25
    with pytest.raises(ConfigError, match="STEPLINE_KEEP_FINISHED_EXECUTIONS must be an integer"):
        load_settings(environ={"STEPLINE_KEEP_FINISHED_EXECUTIONS": "lots"})


def test_engine_settings_carry_the_values_over() -> None:
    engine = load_settings(environ={
        "STEPLINE_UNKNOWN_FIELDS": "warn", "STEPLINE_REGION": "eu-north-1",
        "STEPLINE_MAX_PAYLOAD_BYTES": "512",
    }).engine_settings()
    assert engine.unknown_fields_are_errors is False
    assert engine.region == "eu-north-1"
    assert engine.max_payload_bytes == 512
    assert load_settings(environ={}).engine_settings().unknown_fields_are_errors is True


def test_handlers_table_and_paths_resolve_relative_to_the_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    config = toml(folder, 'handler_paths = ["tasks.py", "my_pkg.tasks", "/abs/x.py"]\n'
                          '[handlers]\nPay = "billing.py:pay"\nShip = "shipping.api:ship"\n')
    settings = load_settings(config, environ={})
    assert settings.handler_paths == (str(folder / "tasks.py"), "my_pkg.tasks", "/abs/x.py")
    assert dict(settings.handlers) == {
        "Pay": f"{folder / 'billing.py'}:pay", "Ship": "shipping.api:ship",
    }


# ----- errors ---------------------------------------------------------------------------


def test_unknown_key_is_refused_and_known_keys_are_listed(empty_dir: Path) -> None:
    toml(empty_dir, 'regoin = "eu-west-1"\ntimescale = 1\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={})
    message = str(caught.value)
    assert "unknown settings regoin, timescale" in message
    assert "region" in message and "time_scale" in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('time_scale = "fast"', "time_scale must be a number, not 'fast'"),
        ("max_payload_bytes = 1.5", "max_payload_bytes must be an integer, not 1.5"),
        ("max_payload_bytes = true", "max_payload_bytes must be an integer, not True"),
        ("region = 5", "region must be a string, not 5"),
        ('handler_paths = "tasks.py"', "handler_paths must be a list of files or modules"),
        ('handlers = ["a:b"]', 'handlers must be a table of name = "module:function"'),
        ("time_scale = -1", "time_scale must be a number >= 0, not -1"),
        ("max_payload_bytes = 0", "max_payload_bytes must be a positive number of bytes, not 0"),
        ('unknown_fields = "ignore"', "unknown_fields must be 'error' or 'warn', not 'ignore'"),
        ('express_history = "no"', "express_history must be true or false, not 'no'"),
        ("keep_finished_executions = -1", "keep_finished_executions must be 0 (keep all)"),
        ("keep_finished_executions = 2.5", "keep_finished_executions must be an integer"),
    ],
)
def test_bad_file_value_names_the_file_and_setting(
    empty_dir: Path, line: str, expected: str
) -> None:
    toml(empty_dir, line + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={})
    assert str(caught.value).startswith("stepline.toml: ")
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("STEPLINE_TIME_SCALE", "fast", "STEPLINE_TIME_SCALE must be a number, not 'fast'"),
        ("STEPLINE_TIME_SCALE", "nan", "STEPLINE_TIME_SCALE must be a number >= 0, not nan"),
        ("STEPLINE_TIME_SCALE", "-2", "STEPLINE_TIME_SCALE must be a number >= 0, not -2.0"),
        ("STEPLINE_MAX_PAYLOAD_BYTES", "256KiB",
         "STEPLINE_MAX_PAYLOAD_BYTES must be an integer, not '256KiB'"),
        ("STEPLINE_MAX_PAYLOAD_BYTES", "-1", "STEPLINE_MAX_PAYLOAD_BYTES must be a positive"),
        ("STEPLINE_UNKNOWN_FIELDS", "warning",
         "STEPLINE_UNKNOWN_FIELDS must be 'error' or 'warn', not 'warning'"),
        ("STEPLINE_EXPRESS_HISTORY", "sometimes",
         "STEPLINE_EXPRESS_HISTORY must be true or false, not 'sometimes'"),
    ],
)
def test_bad_environment_value_names_the_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={variable: value})
    assert str(caught.value).startswith(expected)


def test_bad_flag_value_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^time_scale must be a number >= 0, not -0.5$"):
        load_settings(environ={}, time_scale=-0.5)


def test_a_valid_environment_value_fixes_nothing_in_a_bad_file(empty_dir: Path) -> None:
    """Each layer is checked on its own: a bad file is reported even if env overrides it."""
    toml(empty_dir, 'unknown_fields = "sometimes"\n')
    with pytest.raises(ConfigError, match="stepline.toml: unknown_fields"):
        load_settings(environ={"STEPLINE_UNKNOWN_FIELDS": "warn"})


def test_explicit_config_file_that_is_missing(empty_dir: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file missing.toml"):
        load_settings("missing.toml", environ={})


def test_config_file_that_is_not_toml(empty_dir: Path) -> None:
    toml(empty_dir, "region = eu-west-1\n")
    with pytest.raises(ConfigError, match=r"cannot read config file stepline.toml: .*line 1"):
        load_settings(environ={})
