"""Settings: one typed object, from defaults, a config file, the environment and flags.

Precedence, lowest first: defaults, the config file (`--config`, `$STEPLINE_CONFIG`, or
`./stepline.toml` when present), environment variables (`STEPLINE_*`, `REDIS_URL`), then
command-line flags. Every setting has a working default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from scheduler.asl.errors import SteplineError
from scheduler.engine.engine import EngineSettings


class ConfigError(SteplineError):
    """A config file or environment variable with a value Stepline cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its default."""

    region: str = "us-east-1"
    """AWS region used in every ARN Stepline forms."""
    account: str = "123456789012"
    """AWS account id used in every ARN Stepline forms."""
    time_scale: float = 1.0
    """Multiplier for Waits, retry delays and timeouts (like AWS's WAIT_TIME_SCALE)."""
    max_payload_bytes: int = 256 * 1024
    """Largest input, output or result accepted (AWS: 256 KiB)."""
    unknown_fields: str = "error"
    """`error` refuses definitions with fields Stepline does not know; `warn` accepts them."""
    redis_url: str | None = None
    """Redis for the distributed engine; unset means the embedded default."""
    handlers: Mapping[str, str] = field(default_factory=dict)
    """Lambda function names mapped to `module:function` handlers."""
    handler_paths: tuple[str, ...] = ()
    """Files or modules whose top-level functions are registered as handlers."""

    def engine_settings(self) -> EngineSettings:
        """The engine's part of the settings."""
        return EngineSettings(
            region=self.region,
            account=self.account,
            time_scale=self.time_scale,
            max_payload_bytes=self.max_payload_bytes,
            unknown_fields_are_errors=self.unknown_fields != "warn",
        )


_ENV = {
    "STEPLINE_REGION": ("region", str),
    "STEPLINE_ACCOUNT": ("account", str),
    "STEPLINE_TIME_SCALE": ("time_scale", float),
    "STEPLINE_MAX_PAYLOAD_BYTES": ("max_payload_bytes", int),
    "STEPLINE_UNKNOWN_FIELDS": ("unknown_fields", str),
    "REDIS_URL": ("redis_url", str),
}


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {', '.join(unknown)}")
    if "handler_paths" in data:
        data["handler_paths"] = tuple(data["handler_paths"])
    return data


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for variable, (name, kind) in _ENV.items():
        if variable in environ and environ[variable] != "":
            try:
                values[name] = kind(environ[variable])
            except ValueError as exc:
                raise ConfigError(f"{variable}={environ[variable]!r}: {exc}") from exc
    return values


def load_settings(
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Settings from the config file, the environment and explicit overrides."""
    env = os.environ if environ is None else environ
    path_text = config_file or env.get("STEPLINE_CONFIG")
    path = Path(path_text) if path_text else Path("stepline.toml")
    values: dict[str, Any] = {}
    if path_text or path.is_file():
        values.update(_from_file(path))
    values.update(_from_env(env))
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = replace(Settings(), **values)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    if settings.unknown_fields not in ("error", "warn"):
        raise ConfigError(
            f"unknown_fields must be 'error' or 'warn', not {settings.unknown_fields!r}"
        )
    if settings.time_scale < 0:
        raise ConfigError("time_scale cannot be negative")
    if settings.max_payload_bytes <= 0:
        raise ConfigError("max_payload_bytes must be positive")
