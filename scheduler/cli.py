"""The `stepline` command: run and validate state machines on the embedded default."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from integrations.registry import HandlerLoadError, HandlerRegistry
from scheduler.asl.parse import DefinitionError
from scheduler.asl.validate import validate_definition_text
from scheduler.config import ConfigError, Settings, load_settings
from scheduler.engine.engine import InvalidExecutionInput
from scheduler.engine.records import ExecutionRecord, ExecutionStatus

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
        except UnicodeDecodeError as exc:
            raise UsageError(f"{what} file '{path}' is not UTF-8 text: {exc}") from exc
    return argument


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _parse_input(argument: str | None, limit: int) -> Any:
    if argument is None:
        return {}
    text = _read_text(argument, "input")
    size = len(text.encode("utf-8"))
    if size > limit:
        raise UsageError(f"input is {size} bytes, over the {limit}-byte payload limit")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise UsageError(f"input is not valid JSON: {exc}") from exc


#: What AWS refuses in an execution name: whitespace, brackets, wildcards, specials and
#: control characters.
_BAD_NAME_CHARACTERS = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def _check_name(name: str) -> None:
    """Refuse an execution name AWS would refuse (InvalidName)."""
    if not 1 <= len(name) <= 80:
        raise UsageError(f"invalid execution name '{name}': it must be 1 to 80 characters long")
    bad = _BAD_NAME_CHARACTERS.search(name)
    if bad:
        raise UsageError(
            f"invalid execution name '{name}': it cannot contain {bad.group()!r} "
            "(no whitespace, brackets, wildcards or any of \" # % \\ ^ | ~ ` $ & , ; : /)"
        )


def _registry(settings: Settings, specs: Sequence[str]) -> HandlerRegistry:
    # Modules in the working directory import as with `python -m`, also from the
    # `stepline` console script (whose sys.path starts at its own bin folder).
    cwd = os.getcwd()
    if "" not in sys.path and cwd not in sys.path:
        sys.path.append(cwd)
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


def _check_definition(text: str, settings: Settings) -> bool:
    """Print the definition's diagnostics (warnings too); False when it has errors."""
    diagnostics = validate_definition_text(
        text, unknown_fields_are_errors=settings.unknown_fields != "warn"
    )
    _print_diagnostics(diagnostics)
    return not any(d.severity == "ERROR" for d in diagnostics)


def command_run(args: argparse.Namespace) -> int:
    """`stepline run`: one execution to its end; prints its output (or JSON with --json).

    Everything is checked before anything runs: the definition, the input, the name and
    the handlers. Handlers' own prints go to stderr, so stdout holds only the result.
    """
    from scheduler.runtime import EmbeddedRuntime

    settings = load_settings(args.config, time_scale=args.time_scale)
    definition = _read_text(args.definition, "definition")
    if not _check_definition(definition, settings):
        return EXIT_USAGE
    input_value = _parse_input(args.input, settings.max_payload_bytes)
    if args.name is not None:
        _check_name(args.name)
    with contextlib.redirect_stdout(sys.stderr):
        registry = _registry(settings, args.handlers)
        runtime = EmbeddedRuntime(
            registry,
            settings=settings.engine_settings(),
            integrations=settings.integration_settings(),
        )
        try:
            record = runtime.run(definition, input_value, name=args.name)
        except DefinitionError as exc:
            _print_diagnostics(exc.diagnostics)
            return EXIT_USAGE
        except InvalidExecutionInput as exc:
            raise UsageError(str(exc)) from exc
        finally:
            runtime.close()
    if args.history:
        stream = sys.stderr if args.json else sys.stdout
        for event in runtime.history(record):
            print(json.dumps(event), file=stream)
    return _report(record, as_json=args.json)


def _report(record: ExecutionRecord, *, as_json: bool) -> int:
    """Print an execution's result: its output on stdout, or its error on stderr."""
    succeeded = record.status == ExecutionStatus.SUCCEEDED
    if as_json:
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


def command_server(args: argparse.Namespace) -> int:
    """`stepline server`: the AWS Step Functions API with everything it needs, one process
    group: the embedded engine, or with REDIS_URL the Redis engine, the timer loop and
    `--workers` worker processes."""
    from scheduler.api import serve
    from scheduler.api.server import cluster_backend

    settings = load_settings(args.config)
    registry = _registry(settings, args.handlers)
    if not settings.redis_url:
        return serve(settings, registry, host=args.host, port=args.port)
    if args.workers < 0:
        raise UsageError("--workers must be 0 or more")
    _cluster_environment(args)
    handlers = [str(Path(h).resolve()) if Path(h).exists() else h for h in args.handlers]
    backend = cluster_backend(
        settings, registry, workers=args.workers, concurrency=args.concurrency,
        handler_specs=handlers, timers=True,
        worker_env={**os.environ, "REDIS_URL": settings.redis_url},
    )
    return serve(settings, registry, host=args.host, port=args.port, backend=backend)


def command_api(args: argparse.Namespace) -> int:
    """`stepline api`: the API alone, for a cluster on Redis (beside `stepline worker` and
    `stepline scheduler`)."""
    from scheduler.api import serve
    from scheduler.api.server import cluster_backend

    settings = load_settings(args.config)
    if not settings.redis_url:
        raise UsageError(
            "`stepline api` serves a cluster on Redis: set REDIS_URL (or redis_url in the "
            "config file); `stepline server` runs everything on one machine"
        )
    return serve(settings, HandlerRegistry(), host=args.host, port=args.port,
                 backend=cluster_backend(settings))


def _cluster_environment(args: argparse.Namespace) -> None:
    """Pass `--config` on to the Celery processes (they read settings themselves)."""
    load_settings(args.config)  # refuse a bad config before starting anything
    if args.config:
        os.environ["STEPLINE_CONFIG"] = str(Path(args.config).resolve())


def command_worker(args: argparse.Namespace) -> int:
    """`stepline worker`: a Celery worker running steps and task calls from $REDIS_URL."""
    from workers.main import run_worker

    _cluster_environment(args)
    handlers = [str(Path(h).resolve()) if Path(h).exists() else h for h in args.handlers]
    run_worker(handlers, args.concurrency, args.queues.split(","), args.loglevel, args.pool)
    return EXIT_OK


def command_scheduler(args: argparse.Namespace) -> int:
    """`stepline scheduler`: fires due timers and re-sends lost steps, until SIGTERM."""
    from workers.main import run_scheduler

    _cluster_environment(args)
    run_scheduler()
    return EXIT_OK


def command_activity_worker(args: argparse.Namespace) -> int:
    """`stepline activity-worker`: poll an activity and answer its tasks with a handler."""
    import logging
    import signal
    import threading

    from botocore.exceptions import ClientError

    from integrations.activity_worker import run_activity_worker
    from integrations.registry import resolve_reference

    try:
        handler: Callable[[Any], Any] = cast(Any, resolve_reference(args.handler))
    except HandlerLoadError as exc:
        raise UsageError(str(exc)) from exc
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def stop_after_this_task(signum: int, frame: object) -> None:
        if stop.is_set():  # a second signal: stop now
            raise KeyboardInterrupt
        print("stepline: stopping after the current task", file=sys.stderr, flush=True)
        stop.set()

    signal.signal(signal.SIGTERM, stop_after_this_task)
    signal.signal(signal.SIGINT, stop_after_this_task)
    try:
        run_activity_worker(
            args.activity, handler, endpoint_url=args.endpoint_url, region_name=args.region,
            worker_name=args.worker_name, heartbeat_seconds=args.heartbeat, stop_event=stop,
        )
    except ClientError as exc:
        print(f"stepline: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
    return EXIT_OK


def _add_activity_worker(commands: Any, common: argparse.ArgumentParser) -> None:
    worker = commands.add_parser(
        "activity-worker", parents=[common],
        help="poll an activity (GetActivityTask) and answer its tasks with a Python function",
    )
    worker.add_argument("--activity", required=True, help="the activity's ARN")
    worker.add_argument("--handler", required=True, metavar="MODULE:FUNCTION",
                        help="function(input) -> output; a module or a .py path")
    worker.add_argument("--endpoint-url", default="http://127.0.0.1:8083",
                        help="the Step Functions API (default: a local stepline server)")
    worker.add_argument("--region", default=None, help="AWS region (default $AWS_REGION)")
    worker.add_argument("--worker-name", default=None, help="workerName sent with each poll")
    worker.add_argument("--heartbeat", type=float, default=None, metavar="SECONDS",
                        help="send SendTaskHeartbeat this often while the handler runs")
    worker.set_defaults(func=command_activity_worker)


def _add_cluster_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    from workers.app import STEPS_QUEUE, TASKS_QUEUE

    worker = commands.add_parser(
        "worker", parents=[common], help="run a Celery worker for the Redis engine ($REDIS_URL)"
    )
    worker.add_argument("--handlers", action="append", default=[], metavar="FILE_OR_MODULE",
                        help="register every top-level function as a Lambda handler (repeatable)")
    worker.add_argument("--concurrency", type=int, default=None,
                        help="worker processes (default: one per CPU)")
    worker.add_argument("--queues", default=f"{STEPS_QUEUE},{TASKS_QUEUE}",
                        help="queues to consume, comma-separated (split steps and task calls "
                        "across workers by giving each its own)")
    worker.add_argument("--pool", default="prefork", help="Celery pool (prefork, solo, threads)")
    worker.add_argument("--loglevel", default="INFO", help="log level")
    worker.set_defaults(func=command_worker)
    scheduler = commands.add_parser(
        "scheduler", parents=[common], help="fire timers and recover lost steps ($REDIS_URL)"
    )
    scheduler.set_defaults(func=command_scheduler)


def build_parser() -> argparse.ArgumentParser:
    """The `stepline` argument parser."""
    parser = argparse.ArgumentParser(
        prog="stepline", description="Run AWS Step Functions state machines on your own machines."
    )
    config_help = "config file (TOML); default $STEPLINE_CONFIG, or ./stepline.toml if present"
    parser.add_argument("--config", help=config_help)
    # Also accepted after the command; SUPPRESS keeps a `--config` given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help=config_help)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", parents=[common], help="run one execution on the embedded engine"
    )
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

    validate = commands.add_parser(
        "validate", parents=[common], help="check a definition; list every problem"
    )
    validate.add_argument("definition", help="state machine definition file (ASL JSON)")
    validate.add_argument("--json", action="store_true", help="print diagnostics as JSON")
    validate.set_defaults(func=command_validate)

    server = commands.add_parser(
        "server", parents=[common],
        help="serve the AWS Step Functions API with engine and workers (one machine)"
    )
    server.add_argument("--host", default="127.0.0.1", help="address to listen on")
    server.add_argument("--port", type=int, default=8083, help="port to listen on")
    server.add_argument("--handlers", action="append", default=[], metavar="FILE_OR_MODULE",
                        help="register every top-level function as a Lambda handler (repeatable)")
    server.add_argument("--workers", type=int, default=2,
                        help="with REDIS_URL: worker processes to start (default 2)")
    server.add_argument("--concurrency", type=int, default=1,
                        help="with REDIS_URL: pool processes of each worker (default 1)")
    server.set_defaults(func=command_server)

    api = commands.add_parser(
        "api", parents=[common], help="serve the API alone, for a cluster ($REDIS_URL)"
    )
    api.add_argument("--host", default="127.0.0.1", help="address to listen on")
    api.add_argument("--port", type=int, default=8083, help="port to listen on")
    api.set_defaults(func=command_api)
    _add_cluster_commands(commands, common)
    _add_activity_worker(commands, common)
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
