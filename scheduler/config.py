"""Settings: one typed object, from defaults, a config file, the environment and flags.

Precedence, lowest first: defaults, the config file (`--config`, `$STEPLINE_CONFIG`, or
`./stepline.toml` when present), environment variables (`STEPLINE_*`, `REDIS_URL`), then
command-line flags. Every setting has a working default.

Relative `.py` paths in a config file's `handler_paths` and `handlers` are relative to
the config file's folder, so a config file works from any working directory.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from integrations.connections import parse_connections
from integrations.settings import IntegrationSettings
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
    aws_endpoint_url: str | None = None
    """Endpoint for every AWS service integration (e.g. a LocalStack or moto server);
    unset: AWS itself (or boto3's `AWS_ENDPOINT_URL*` variables)."""
    aws_endpoints: Mapping[str, str] = field(default_factory=dict)
    """Per-service endpoints by boto3 name (`dynamodb`, `sqs`, `s3`...), env
    `STEPLINE_ENDPOINT_<SERVICE>`; they win over `aws_endpoint_url`."""
    connections: Mapping[str, Any] = field(default_factory=dict)
    """Named `http:invoke` connections (see integrations/connections.py); env
    `STEPLINE_CONNECTIONS` as a JSON object."""
    express_history: bool = True
    """Keep Express executions' records and histories once they end (AWS keeps none;
    Stepline does by default, to debug them); false answers DescribeExecution and
    GetExecutionHistory on Express ARNs as AWS does, and keeps nothing of them."""
    keep_finished_executions: int = 10_000
    """Ended executions the embedded engine keeps in memory, the oldest forgotten first
    (0 keeps them all); env `STEPLINE_KEEP_FINISHED_EXECUTIONS`. Redis keeps all."""
    queue_routes: Mapping[str, str] = field(default_factory=dict)
    """State machine names mapped to a queue prefix: their steps and Task calls go to
    `PREFIX.steps` / `PREFIX.tasks` (workers started with `--queues` on those); env
    `STEPLINE_QUEUE_ROUTES` as `machine=prefix,machine2=prefix2`."""

    def engine_settings(self) -> EngineSettings:
        """The engine's part of the settings."""
        return EngineSettings(
            region=self.region,
            account=self.account,
            time_scale=self.time_scale,
            max_payload_bytes=self.max_payload_bytes,
            unknown_fields_are_errors=self.unknown_fields != "warn",
            express_history=self.express_history,
            keep_finished=self.keep_finished_executions,
        )

    def integration_settings(self) -> IntegrationSettings:
        """The HTTP and AWS integrations' part of the settings."""
        return IntegrationSettings(
            aws_endpoint_url=self.aws_endpoint_url,
            aws_endpoints=dict(self.aws_endpoints),
            connections=parse_connections(self.connections, os.environ),
        )


_ENV: dict[str, tuple[str, Callable[[str], Any]]] = {
    "STEPLINE_REGION": ("region", str),
    "STEPLINE_ACCOUNT": ("account", str),
    "STEPLINE_TIME_SCALE": ("time_scale", float),
    "STEPLINE_MAX_PAYLOAD_BYTES": ("max_payload_bytes", int),
    "STEPLINE_UNKNOWN_FIELDS": ("unknown_fields", str),
    "REDIS_URL": ("redis_url", str),
    "STEPLINE_AWS_ENDPOINT_URL": ("aws_endpoint_url", str),
    "STEPLINE_CONNECTIONS": ("connections", json.loads),
    "STEPLINE_QUEUE_ROUTES": ("queue_routes", lambda text: parse_routes(text)),
    "STEPLINE_EXPRESS_HISTORY": ("express_history", lambda text: parse_boolean(text)),
    "STEPLINE_KEEP_FINISHED_EXECUTIONS": ("keep_finished_executions", int),
}
_ENV_NAMES = {name: variable for variable, (name, _) in _ENV.items()}
_ENV_NAMES["aws_endpoints"] = "STEPLINE_ENDPOINT_<SERVICE>"


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    known = [f.name for f in fields(Settings)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(known settings: {', '.join(known)})"
        )
    for name, value in data.items():
        problem = _type_problem(name, value)
        if problem:
            raise ConfigError(f"{path}: {name} {problem}, not {value!r}")
    folder = path.parent
    if "handler_paths" in data:
        data["handler_paths"] = tuple(_relative_to(folder, p) for p in data["handler_paths"])
    if "handlers" in data:
        data["handlers"] = {
            name: _reference_relative_to(folder, ref) for name, ref in data["handlers"].items()
        }
    return data


#: Settings that are tables of strings, and what a config file is told when one is not.
_STRING_TABLES = {
    "handlers": 'must be a table of name = "module:function"',
    "aws_endpoints": 'must be a table of service = "URL"',
    "queue_routes": "must be a table of machine = queue prefix",
}


def _type_problem(name: str, value: Any) -> str | None:
    """What is wrong with the type of a config file's `name = value`, or None."""
    if name in ("time_scale", "max_payload_bytes", "keep_finished_executions"):
        kinds: tuple[type, ...] = (int, float) if name == "time_scale" else (int,)
        if isinstance(value, bool) or not isinstance(value, kinds):
            return "must be a number" if name == "time_scale" else "must be an integer"
    elif name in _STRING_TABLES:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            return _STRING_TABLES[name]
    elif name == "handler_paths":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "must be a list of files or modules"
    elif name == "connections":
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            return "must be a table of connection tables"
    elif name == "express_history":
        if not isinstance(value, bool):
            return "must be true or false"
    elif not isinstance(value, str):
        return "must be a string"
    return None


def parse_boolean(text: str) -> bool:
    """`true`/`false` (also `1`/`0`, `yes`/`no`, any case). Raises ValueError."""
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError(f"{text!r} is not true or false")


def parse_routes(text: str) -> dict[str, str]:
    """`machine=prefix,machine2=prefix2` as a mapping. Raises ValueError."""
    routes = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        machine, sep, prefix = item.partition("=")
        if not sep or not machine.strip() or not prefix.strip():
            raise ValueError(f"{item!r} is not machine=prefix")
        routes[machine.strip()] = prefix.strip()
    return routes


def _relative_to(folder: Path, spec: str) -> str:
    if spec.endswith(".py") and not Path(spec).is_absolute():
        return str(folder / spec)
    return spec


def _reference_relative_to(folder: Path, reference: str) -> str:
    module, sep, function = reference.rpartition(":")
    return f"{_relative_to(folder, module)}{sep}{function}" if sep else reference


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for variable, (name, kind) in _ENV.items():
        if variable in environ and environ[variable] != "":
            try:
                values[name] = kind(environ[variable])
            except ValueError as exc:
                wanted = "a number" if kind is float else "an integer"
                if kind is json.loads:
                    wanted = "a JSON object"
                if name == "express_history":
                    wanted = "true or false"
                raise ConfigError(
                    f"{variable} must be {wanted}, not {environ[variable]!r}"
                ) from exc
    endpoints = {
        variable[len("STEPLINE_ENDPOINT_") :].lower(): url
        for variable, url in environ.items()
        if variable.startswith("STEPLINE_ENDPOINT_") and url
    }
    if endpoints:
        values["aws_endpoints"] = endpoints
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
        from_file = _from_file(path)
        _check(from_file, lambda name: f"{path}: {name}")
        values.update(from_file)
    from_env = _from_env(env)
    if "aws_endpoints" in from_env:
        from_env["aws_endpoints"] = {**values.get("aws_endpoints", {}), **from_env["aws_endpoints"]}
    _check(from_env, lambda name: _ENV_NAMES[name])
    values.update(from_env)
    from_flags = {k: v for k, v in overrides.items() if v is not None}
    _check(from_flags, lambda name: name)
    values.update(from_flags)
    return replace(Settings(), **values)


def _check(values: Mapping[str, Any], where: Callable[[str], str]) -> None:
    """Refuse values no setting can take; `where(name)` says where one came from."""
    unknown_fields = values.get("unknown_fields", "error")
    if unknown_fields not in ("error", "warn"):
        raise ConfigError(
            f"{where('unknown_fields')} must be 'error' or 'warn', not {unknown_fields!r}"
        )
    time_scale = values.get("time_scale", 1.0)
    if not math.isfinite(time_scale) or time_scale < 0:
        raise ConfigError(f"{where('time_scale')} must be a number >= 0, not {time_scale!r}")
    try:
        parse_connections(values.get("connections", {}), os.environ)
    except ValueError as exc:
        raise ConfigError(f"{where('connections')}: {exc}") from exc
    keep_finished = values.get("keep_finished_executions", 0)
    if keep_finished < 0:
        raise ConfigError(
            f"{where('keep_finished_executions')} must be 0 (keep all) or more, "
            f"not {keep_finished!r}"
        )
    max_payload_bytes = values.get("max_payload_bytes", 1)
    if max_payload_bytes <= 0:
        raise ConfigError(
            f"{where('max_payload_bytes')} must be a positive number of bytes, "
            f"not {max_payload_bytes!r}"
        )
