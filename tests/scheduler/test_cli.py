"""The `stepline` command as a user drives it: exit codes, stdout and stderr.

A handful of cases run the real process (`python -m scheduler.cli`); the rest call
`main([...])` in-process and read what it printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler.cli import main

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function"

HANDLERS = '''
import json
from os.path import join  # imported: must not become a handler


class PaymentDeclined(Exception):
    pass


def double(event, context):
    return {"n": event["n"] * 2}


def charge(event, context):
    print("charging card", event["card"])  # a handler's print must not reach stdout
    if event["card"] == "4000":
        raise PaymentDeclined(f"card {event['card']} was declined")
    return {"charged": event["card"]}


def record(event, context):
    with open("called.txt", "a") as f:
        f.write(json.dumps(event) + "\\n")
    return event


def whoami(event, context):
    return {"function": context.function_name, "arn": context.invoked_function_arn}


def _helper(event, context):
    return "private"
'''


def task(resource: str, **extra: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True,
                                             **extra}}}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean working directory with handlers.py; no STEPLINE_* settings leak in."""
    for name in list(os.environ):
        if name.startswith("STEPLINE_") or name == "REDIS_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "handlers.py").write_text(HANDLERS)
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


def write(folder: Path, name: str, content: Any) -> str:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def run_cli(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPLINE_")}
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


# ----- the real process -----------------------------------------------------------------


def test_process_run_prints_the_output_and_exits_0(work: Path) -> None:
    definition = write(work, "double.json", task(f"{LAMBDA}:double"))
    done = run_cli("run", definition, "--input", '{"n": 21}', "--handlers", "handlers.py",
                   cwd=work)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"n": 42}
    assert done.stderr == ""


def test_process_json_failure_is_one_object_with_the_handlers_error(work: Path) -> None:
    definition = write(work, "charge.json", task(f"{LAMBDA}:charge"))
    done = run_cli("run", definition, "--input", '{"card": "4000"}', "--handlers", "handlers.py",
                   "--json", cwd=work)
    assert done.returncode == 1
    result = json.loads(done.stdout)  # exactly one JSON document: no handler prints mixed in
    assert set(result) == {"status", "error", "cause"}
    assert result["status"] == "FAILED"
    assert result["error"] == "PaymentDeclined"
    cause = json.loads(result["cause"])
    assert cause["errorMessage"] == "card 4000 was declined"
    assert cause["errorType"] == "PaymentDeclined"
    assert "charging card 4000" in done.stderr


def test_process_invalid_definition_exits_2_listing_every_problem(work: Path) -> None:
    definition = write(work, "bad.json", {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Sleep"}},
    })
    done = run_cli("run", definition, "--input", "{}", cwd=work)
    assert done.returncode == 2
    assert done.stdout == ""
    assert '/States/A/Next: state "Nowhere" does not exist' in done.stderr
    assert "/States/B/Type: unknown state type \"Sleep\"" in done.stderr
    assert "Traceback" not in done.stderr


def test_process_handler_calling_sys_exit_fails_the_task_instead_of_hanging(work: Path) -> None:
    write(work, "quitter.py", "import sys\n\ndef quit(event, context):\n    sys.exit(3)\n")
    definition = write(work, "quit.json", task("quit"))
    done = run_cli("run", definition, "--handlers", "quitter.py", "--json", cwd=work,
                   timeout=30)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["error"] == "Runtime.ExitError"
    assert "exit status 3" in json.loads(result["cause"])["errorMessage"]


def test_console_script_imports_handler_modules_from_the_working_directory(work: Path) -> None:
    script = Path(sys.executable).with_name("stepline")
    if not script.exists():
        pytest.skip("the stepline console script is not installed next to this Python")
    write(work, "greetings.py", "def hello(event, context):\n    return 'hi ' + event\n")
    definition = write(work, "hello.json", task("hello"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPLINE_")}
    done = subprocess.run(
        [str(script), "run", definition, "--input", '"ann"', "--handlers", "greetings"],
        cwd=work, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "hi ann"


def test_process_validate_json(work: Path) -> None:
    definition = write(work, "bad.json", {"StartAt": "Missing", "States": {
        "A": {"Type": "Succeed"}}})
    done = run_cli("validate", definition, "--json", cwd=work)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["result"] == "FAIL"
    assert {"location": "/StartAt", "severity": "ERROR"}.items() <= report["diagnostics"][0].items()


# ----- run: results ---------------------------------------------------------------------


def test_run_success_prints_pretty_json_output_only(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", task(f"{LAMBDA}:double"))
    code = main(["run", definition, "--input", '{"n": 2}', "--handlers", "handlers.py"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out == '{\n  "n": 4\n}\n'
    assert err == ""


def test_run_without_input_runs_with_an_empty_object(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", {"StartAt": "P", "States": {"P": {"Type": "Pass",
                                                                          "End": True}}})
    assert main(["run", definition, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"status": "SUCCEEDED", "output": {}}


def test_run_failure_without_json_reports_on_stderr_and_exits_1(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", {"StartAt": "F", "States": {
        "F": {"Type": "Fail", "Error": "OrderRejected", "Cause": "out of stock"}}})
    code = main(["run", definition, "--input", "{}"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.strip() == "FAILED: OrderRejected: out of stock"


def test_run_json_success_is_exactly_status_and_output(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", task(f"{LAMBDA}:charge"))
    code = main(["run", definition, "--input", '{"card": "4242"}', "--handlers", "handlers.py",
                 "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.count("\n") == 1
    assert json.loads(out) == {"status": "SUCCEEDED", "output": {"charged": "4242"}}
    assert "charging card 4242" in err


def test_custom_exception_can_be_caught_by_its_name(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", {"StartAt": "Charge", "States": {
        "Charge": {"Type": "Task", "Resource": f"{LAMBDA}:charge", "End": True,
                   "Catch": [{"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error",
                              "Next": "Declined"}]},
        "Declined": {"Type": "Pass", "End": True}}})
    code = main(["run", definition, "--input", '{"card": "4000"}', "--handlers", "handlers.py",
                 "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["output"]["error"]["Error"] == "PaymentDeclined"
    cause = json.loads(result["output"]["error"]["Cause"])
    assert cause["errorMessage"] == "card 4000 was declined"
    assert any("handlers.py" in frame and "charge" in frame for frame in cause["stackTrace"])


def test_history_prints_aws_shaped_events(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", task(f"{LAMBDA}:double"))
    code = main(["run", definition, "--input", '{"n": 1}', "--handlers", "handlers.py",
                 "--history"])
    out, _ = capsys.readouterr()
    assert code == 0
    lines = out.splitlines()
    events = [json.loads(line) for line in lines if line.startswith('{"timestamp"')]
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
        "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in events] == list(range(1, 8))
    scheduled = events[2]["lambdaFunctionScheduledEventDetails"]
    assert scheduled["resource"] == f"{LAMBDA}:double"
    assert json.loads(scheduled["input"]) == {"n": 1}
    assert events[4]["previousEventId"] == 4
    succeeded = events[-1]["executionSucceededEventDetails"]
    assert json.loads(succeeded["output"]) == {"n": 2}


def test_history_with_json_goes_to_stderr_leaving_one_object_on_stdout(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", task(f"{LAMBDA}:double"))
    main(["run", definition, "--input", '{"n": 1}', "--handlers", "handlers.py", "--history",
          "--json"])
    out, err = capsys.readouterr()
    assert json.loads(out) == {"status": "SUCCEEDED", "output": {"n": 2}}
    types = [json.loads(line)["type"] for line in err.splitlines()]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"


def test_name_is_the_executions_name(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = write(work, "d.json", {"StartAt": "P", "States": {"P": {
        "Type": "Pass", "Parameters": {"name.$": "$$.Execution.Name", "id.$": "$$.Execution.Id"},
        "End": True}}})
    assert main(["run", definition, "--name", "order-17", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)["output"]
    assert output == {
        "name": "order-17",
        "id": "arn:aws:states:us-east-1:123456789012:execution:stepline:order-17",
    }


@pytest.mark.parametrize("name", ["two words", "a:b", "x" * 81, "star*"])
def test_a_name_aws_would_refuse_exits_2(
    work: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    definition = write(work, "d.json", task("record"))
    code = main(["run", definition, "--name", name, "--handlers", "handlers.py"])
    assert code == 2
    assert "invalid execution name" in capsys.readouterr().err
    assert not (work / "called.txt").exists()


def test_time_scale_shrinks_a_wait(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = write(work, "d.json", {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 30, "End": True}}})
    started = time.monotonic()
    code = main(["run", definition, "--input", '{"waited": true}', "--time-scale", "0.01"])
    elapsed = time.monotonic() - started
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"waited": True}
    assert 0.25 <= elapsed < 10


def test_time_scale_flag_beats_the_environment(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPLINE_TIME_SCALE", "1000")
    definition = write(work, "d.json", {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 5, "End": True}}})
    started = time.monotonic()
    assert main(["run", definition, "--time-scale", "0"]) == 0
    assert time.monotonic() - started < 5


def test_handler_results_that_are_not_json_fail_the_task_cleanly(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(work, "sets.py", "def tags(event, context):\n    return {'a', 'b'}\n")
    definition = write(work, "d.json", task("tags"))
    code = main(["run", definition, "--handlers", "sets.py", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1
    assert result["error"] == "Runtime.MarshalError"
    assert "set is not JSON serializable" in json.loads(result["cause"])["errorMessage"]


# ----- run: input -----------------------------------------------------------------------


def test_input_from_a_file(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = write(work, "d.json", task(f"{LAMBDA}:double"))
    write(work, "in.json", '{\n  "n": 5\n}\n')
    assert main(["run", definition, "--input", "@in.json", "--handlers", "handlers.py"]) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 10}


def test_input_file_that_is_missing_exits_2(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", task("record"))
    assert main(["run", definition, "--input", "@nowhere.json", "--handlers", "handlers.py"]) == 2
    err = capsys.readouterr().err
    assert "cannot read input file 'nowhere.json'" in err


@pytest.mark.parametrize("text", ["{n: 1}", "", "NaN", '{"a": 1'])
def test_input_that_is_not_json_exits_2_and_runs_nothing(
    work: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    definition = write(work, "d.json", task("record"))
    code = main(["run", definition, "--input", text, "--handlers", "handlers.py"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("stepline: input is not valid JSON")
    assert not (work / "called.txt").exists()


def test_input_over_256_kib_exits_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = write(work, "d.json", task("record"))
    write(work, "big.json", json.dumps({"blob": "x" * (256 * 1024)}))
    code = main(["run", definition, "--input", "@big.json", "--handlers", "handlers.py"])
    err = capsys.readouterr().err
    assert code == 2
    assert "over the 262144-byte payload limit" in err
    assert not (work / "called.txt").exists()


def test_input_just_under_256_kib_runs(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = write(work, "d.json", {"StartAt": "P", "States": {"P": {
        "Type": "Pass", "Result": "ok", "End": True}}})
    blob = json.dumps({"blob": "x" * (256 * 1024 - 20)})
    write(work, "big.json", blob)
    assert len(blob) <= 256 * 1024
    assert main(["run", definition, "--input", "@big.json"]) == 0
    assert json.loads(capsys.readouterr().out) == "ok"


def test_non_ascii_input_is_measured_in_utf8_bytes(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", {"StartAt": "P", "States": {"P": {
        "Type": "Pass", "Result": "ok", "End": True}}})
    (work / "in.json").write_text(json.dumps({"k": "é" * 75_000}, ensure_ascii=False))
    assert main(["run", definition, "--input", "@in.json"]) == 0


def test_payload_limit_comes_from_settings(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPLINE_MAX_PAYLOAD_BYTES", "64")
    definition = write(work, "d.json", task("record"))
    code = main(["run", definition, "--input", json.dumps({"k": "v" * 100}),
                 "--handlers", "handlers.py"])
    assert code == 2
    assert "over the 64-byte payload limit" in capsys.readouterr().err


# ----- run: the definition --------------------------------------------------------------


def test_missing_definition_file_exits_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "nowhere.json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == (
        "stepline: cannot read definition file 'nowhere.json': No such file or directory"
    )


def test_definition_that_is_not_json_exits_2_with_line_and_column(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", '{\n  "StartAt": "A",\n  States: {}\n}\n')
    assert main(["run", definition]) == 2
    err = capsys.readouterr().err
    assert "INVALID_JSON_DESCRIPTION" in err
    assert "line 3, column 3" in err


def test_invalid_definition_lists_every_problem_and_runs_nothing(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "record", "Next": "B"},
        "B": {"Type": "Wait", "End": True},
        "C": {"Type": "Pass", "Next": "Ghost"}}})
    code = main(["run", definition, "--input", '{"x": 1}', "--handlers", "handlers.py"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert any(line.startswith("ERROR") and "/States/B" in line for line in lines)
    assert any("/States/C/Next" in line and '"Ghost"' in line for line in lines)
    assert any("/States/C" in line and "not reachable" in line for line in lines)
    assert len(lines) >= 3
    assert not (work / "called.txt").exists()


def test_unknown_field_is_an_error_by_default(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", {"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Colour": "red", "End": True}}})
    assert main(["run", definition]) == 2
    assert 'ERROR SCHEMA_VALIDATION_FAILED /States/P/Colour: unknown field "Colour"' in (
        capsys.readouterr().err
    )


def test_unknown_fields_warn_lets_the_definition_run_and_shows_the_warning(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(work, "stepline.toml", 'unknown_fields = "warn"\n')
    definition = write(work, "d.json", {"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Colour": "red", "Result": 7, "End": True}}})
    code = main(["run", definition, "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out) == {"status": "SUCCEEDED", "output": 7}
    assert "WARNING SCHEMA_VALIDATION_FAILED /States/P/Colour" in err


# ----- run: handlers --------------------------------------------------------------------


def test_handler_file_that_is_missing_exits_2(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", task("double"))
    assert main(["run", definition, "--handlers", "hanlders.py"]) == 2
    assert capsys.readouterr().err.strip() == "stepline: handler file 'hanlders.py' does not exist"


def test_handler_file_that_raises_at_import_exits_2_naming_the_error(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(work, "broken.py", "import os\nDSN = os.environ['ORDERS_DSN']\n")
    definition = write(work, "d.json", task("double"))
    assert main(["run", definition, "--handlers", "broken.py"]) == 2
    err = capsys.readouterr().err
    assert "handler file 'broken.py' failed to load: KeyError: 'ORDERS_DSN'" in err
    assert "Traceback" not in err


def test_handler_module_that_raises_at_import_exits_2(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(work, "brokenmod.py", "raise RuntimeError('no database configured')\n")
    definition = write(work, "d.json", task("double"))
    assert main(["run", definition, "--handlers", "brokenmod"]) == 2
    err = capsys.readouterr().err
    assert "handler module 'brokenmod' failed to load: RuntimeError: no database configured" in err


def test_handler_module_that_does_not_exist_exits_2(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", task("double"))
    assert main(["run", definition, "--handlers", "no_such_module_here"]) == 2
    assert "cannot import handler module 'no_such_module_here'" in capsys.readouterr().err


def test_handlers_from_a_package_folder(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "billing").mkdir()
    write(work / "billing", "__init__.py", "def invoice(event, context):\n    return 'INV-1'\n")
    definition = write(work, "d.json", task("invoice"))
    assert main(["run", definition, "--handlers", "billing"]) == 0
    assert json.loads(capsys.readouterr().out) == "INV-1"


def test_unregistered_function_fails_with_resource_not_found(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", task(f"{LAMBDA}:refund"))
    assert main(["run", definition, "--handlers", "handlers.py", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["error"] == "Lambda.ResourceNotFoundException"
    assert "refund" in result["cause"]


def test_private_and_imported_functions_are_not_handlers(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("_helper", "join"):
        definition = write(work, "d.json", task(name))
        assert main(["run", definition, "--handlers", "handlers.py", "--json"]) == 1
        assert json.loads(capsys.readouterr().out)["error"] == "States.TaskFailed"


def test_context_carries_the_function_name_and_full_arn(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", task("whoami"))
    assert main(["run", definition, "--handlers", "handlers.py", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["output"] == {
        "function": "whoami", "arn": f"{LAMBDA}:whoami",
    }


# ----- configuration through the CLI ----------------------------------------------------


def test_config_file_handlers_map_names_relative_to_the_config_file(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "project").mkdir()
    write(work / "project", "impl.py", "def run_payment(event, context):\n    return 'paid'\n")
    config = write(work / "project", "stepline.toml",
                   '[handlers]\nPayOrder = "impl.py:run_payment"\n')
    definition = write(work, "d.json", task(f"{LAMBDA}:PayOrder"))
    assert main(["run", definition, "--config", config]) == 0
    assert json.loads(capsys.readouterr().out) == "paid"


def test_config_given_before_the_command_works_too(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(work, "c.toml", 'handler_paths = ["handlers.py"]\n')
    definition = write(work, "d.json", task("double"))
    assert main(["--config", config, "run", definition, "--input", '{"n": 3}']) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 6}


def test_region_precedence_file_then_environment(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(work, "stepline.toml", 'region = "eu-west-1"\naccount = "111122223333"\n')
    definition = write(work, "d.json", {"StartAt": "P", "States": {"P": {
        "Type": "Pass", "Parameters": {"machine.$": "$$.StateMachine.Id"}, "End": True}}})
    assert main(["run", definition, "--json"]) == 0
    machine = json.loads(capsys.readouterr().out)["output"]["machine"]
    assert machine == "arn:aws:states:eu-west-1:111122223333:stateMachine:stepline"
    monkeypatch.setenv("STEPLINE_REGION", "ap-south-1")
    assert main(["run", definition, "--json"]) == 0
    machine = json.loads(capsys.readouterr().out)["output"]["machine"]
    assert machine == "arn:aws:states:ap-south-1:111122223333:stateMachine:stepline"


def test_bad_config_value_exits_2_naming_where_it_came_from(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    definition = write(work, "d.json", task("record"))
    monkeypatch.setenv("STEPLINE_TIME_SCALE", "fast")
    assert main(["run", definition, "--handlers", "handlers.py"]) == 2
    assert capsys.readouterr().err.strip() == (
        "stepline: STEPLINE_TIME_SCALE must be a number, not 'fast'"
    )
    assert not (work / "called.txt").exists()


def test_unknown_config_key_exits_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(work, "stepline.toml", 'regoin = "eu-west-1"\n')
    definition = write(work, "d.json", task("record"))
    assert main(["run", definition]) == 2
    assert "stepline.toml: unknown setting regoin" in capsys.readouterr().err


def test_negative_time_scale_flag_exits_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = write(work, "d.json", task("record"))
    assert main(["run", definition, "--time-scale", "-1"]) == 2
    assert "time_scale must be a number >= 0, not -1.0" in capsys.readouterr().err


# ----- validate -------------------------------------------------------------------------


def test_validate_good_definition(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = write(work, "d.json", task(f"{LAMBDA}:double"))
    assert main(["validate", definition]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == "OK"


def test_validate_good_definition_json(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = write(work, "d.json", task(f"{LAMBDA}:double"))
    assert main(["validate", definition, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"result": "OK", "diagnostics": []}


def test_validate_bad_definition_lists_located_problems(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "x", "Next": "B", "TimeoutSeconds": -5},
        "B": {"Type": "Choice", "Choices": []}}})
    assert main(["validate", definition]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    locations = [line.split()[2].rstrip(":") for line in err.splitlines()]
    assert "/States/A/TimeoutSeconds" in locations
    assert any(loc.startswith("/States/B") for loc in locations)
    assert "OK" not in err


def test_validate_json_lists_each_diagnostic(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = write(work, "d.json", {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "Nowhere"}}})
    assert main(["validate", definition, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["result"] == "FAIL"
    assert {
        "severity": "ERROR", "code": "MISSING_TRANSITION_TARGET", "location": "/States/A/Next",
        "message": 'state "Nowhere" does not exist',
    } in report["diagnostics"]


def test_validate_warnings_only_passes(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPLINE_UNKNOWN_FIELDS", "warn")
    definition = write(work, "d.json", {"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Colour": "red", "End": True}}})
    assert main(["validate", definition, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["result"] == "OK"
    assert [d["severity"] for d in report["diagnostics"]] == ["WARNING"]


def test_validate_missing_file_exits_2(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "nowhere.json", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "cannot read definition file 'nowhere.json'" in err


def test_connections_from_the_config_file_given_with_config_reach_http_tasks(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--config` (not $STEPLINE_CONFIG) names the connection an http:invoke Task uses."""
    import http.server
    import threading

    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            seen.append(self.headers.get("X-Api-Key"))
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("STEPLINE_CONFIG", raising=False)
    config = work / "elsewhere.toml"
    config.write_text(
        '[connections.crm]\nauthorization_type = "API_KEY"\n'
        'api_key_name = "X-Api-Key"\napi_key_value = "s3cret"\n'
    )
    definition = write(work, "d.json", {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke", "End": True,
        "OutputPath": "$.ResponseBody",
        "Parameters": {"ApiEndpoint": f"http://127.0.0.1:{server.server_port}/x",
                       "Method": "GET", "Authentication": {"ConnectionArn": "crm"}}}}})
    try:
        code = main(["run", definition, "--config", str(config), "--json"])
    finally:
        server.shutdown()
    assert json.loads(capsys.readouterr().out) == {"status": "SUCCEEDED", "output": {"ok": True}}
    assert code == 0
    assert seen == ["s3cret"]
