"""The `stepline` command: run and validate state machines on the embedded default."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from integrations.registry import HandlerLoadError, HandlerRegistry
from scheduler.asl.parse import DefinitionError
from scheduler.asl.validate import validate_definition_text
from scheduler.config import ConfigError, Settings, load_settings
from scheduler.engine.records import ExecutionStatus

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad command-line input: reported on stderr with exit code 2."""


def _read_text(argument: str, what: str) -> str:
    """A file's text (`@path` or a path for definitions) or the argument itself."""
    path = Path(argument[1:] if argument.startswith("@") else argument)
    if argument.startswith("@") or what == "definition":
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {what} file '{path}': {exc.strerror}") from exc
    return argument


def _parse_input(argument: str | None, limit: int) -> Any:
    if argument is None:
        return {}
    text = _read_text(argument, "input")
    if len(text.encode("utf-8")) > limit:
        raise UsageError(f"input is larger than the {limit}-byte payload limit")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"input is not valid JSON: {exc}") from exc


def _registry(settings: Settings, specs: Sequence[str]) -> HandlerRegistry:
    registry = HandlerRegistry()
    try:
        registry.load_all([*settings.handler_paths, *specs])
        registry.load_mapping(dict(settings.handlers))
    except HandlerLoadError as exc:
        raise UsageError(str(exc)) from exc
    return registry


def _print_diagnostics(diagnostics: Sequence[Any]) -> None:
    for d in diagnostics:
        print(f"{d.severity} {d.code} {d.location}: {d.message}", file=sys.stderr)


def command_run(args: argparse.Namespace) -> int:
    """`stepline run`: one execution to its end; prints its output (or JSON with --json)."""
    from scheduler.runtime import EmbeddedRuntime

    settings = load_settings(args.config, time_scale=args.time_scale)
    definition = _read_text(args.definition, "definition")
    input_value = _parse_input(args.input, settings.max_payload_bytes)
    runtime = EmbeddedRuntime(
        _registry(settings, args.handlers), settings=settings.engine_settings()
    )
    try:
        record = runtime.run(definition, input_value, name=args.name)
    except DefinitionError as exc:
        _print_diagnostics(exc.diagnostics)
        return EXIT_USAGE
    finally:
        runtime.close()
    if args.history:
        stream = sys.stderr if args.json else sys.stdout
        for event in runtime.history(record):
            print(json.dumps(event), file=stream)
    succeeded = record.status == ExecutionStatus.SUCCEEDED
    if args.json:
        result: dict[str, Any] = {"status": record.status.value}
        if succeeded:
            result["output"] = record.output
        else:
            result.update(error=record.error, cause=record.cause)
        print(json.dumps(result))
    elif succeeded:
        print(json.dumps(record.output, indent=2))
    else:
        print(f"{record.status.value}: {record.error}: {record.cause}", file=sys.stderr)
    return EXIT_OK if succeeded else EXIT_FAILED


def command_validate(args: argparse.Namespace) -> int:
    """`stepline validate`: the validator's diagnostics; exit 1 when there are errors."""
    settings = load_settings(args.config)
    text = _read_text(args.definition, "definition")
    diagnostics = validate_definition_text(
        text, unknown_fields_are_errors=settings.unknown_fields != "warn"
    )
    if args.json:
        print(json.dumps({
            "result": "FAIL" if any(d.severity == "ERROR" for d in diagnostics) else "OK",
            "diagnostics": [
                {"severity": d.severity, "code": d.code, "location": d.location,
                 "message": d.message}
                for d in diagnostics
            ],
        }))
    else:
        _print_diagnostics(diagnostics)
    if any(d.severity == "ERROR" for d in diagnostics):
        return EXIT_FAILED
    if not args.json:
        print("OK", file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The `stepline` argument parser."""
    parser = argparse.ArgumentParser(
        prog="stepline", description="Run AWS Step Functions state machines on your own machines."
    )
    parser.add_argument("--config", help="config file (TOML); default ./stepline.toml if present")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run one execution on the embedded engine")
    run.add_argument("definition", help="state machine definition file (ASL JSON)")
    run.add_argument("--input", help="execution input: JSON text, or @file")
    run.add_argument("--handlers", action="append", default=[], metavar="FILE_OR_MODULE",
                     help="register every top-level function as a Lambda handler (repeatable)")
    run.add_argument("--name", help="execution name (default: a UUID)")
    run.add_argument("--history", action="store_true", help="print the execution history")
    run.add_argument("--json", action="store_true",
                     help="print one JSON object: status and output, or error and cause")
    run.add_argument("--time-scale", type=float, default=None,
                     help="multiply Waits, retry delays and timeouts (e.g. 0.01)")
    run.set_defaults(func=command_run)

    validate = commands.add_parser("validate", help="check a definition; list every problem")
    validate.add_argument("definition", help="state machine definition file (ASL JSON)")
    validate.add_argument("--json", action="store_true", help="print diagnostics as JSON")
    validate.set_defaults(func=command_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `stepline` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (UsageError, ConfigError) as exc:
        print(f"stepline: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    sys.exit(main())
