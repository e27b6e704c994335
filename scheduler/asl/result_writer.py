"""A Distributed Map's ResultWriter: how the children's results leave the map.

Pure. With a ResultWriter, every child's end is kept as `{"Output": ...}` (succeeded) or
`{"Error": ..., "Cause": ...}` (failed), with the child's input beside it. Then:

- with `Resource` `arn:aws:states:::s3:putObject`, `write_request` lays out the files AWS
  writes under `Prefix/<map run id>/` in `Bucket`: `SUCCEEDED_0.json`, `FAILED_0.json`
  (each only when it has entries) and `manifest.json`; the engine has
  `integrations/s3_items.py` put them (the task path), and the Map's result is
  `{"MapRunArn": ..., "ResultWriterDetails": {"Bucket": ..., "Key": <manifest key>}}`;
- with only a `WriterConfig`, `transformed` is the Map's result.

`WriterConfig.Transformation`: `NONE` (each child's Input, Output or Error/Cause and
Status; the default with a Resource), `COMPACT` (the outputs; the default without one),
`FLATTEN` (the outputs, arrays spread into the list). `OutputType`: `JSON` (one array per
file) or `JSONL` (one entry per line). Unlike AWS, an entry has no ExecutionArn, Name,
dates or redrive fields: Stepline's children are runs of the parent execution.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scheduler.asl.errors import ErrorName, StatesError
from scheduler.asl.payload import Evaluator, to_json
from scheduler.asl.scope import Scope

PUT_OBJECT = "arn:aws:states:::s3:putObject"


@dataclass(frozen=True, slots=True)
class ResultWriter:
    """A compiled `ResultWriter`."""

    resource: str | None = None
    arguments: Evaluator | None = None
    """Parameters (JSONPath, against the effective input) or Arguments (JSONata)."""
    output_type: str = "JSON"
    transformation: str | None = None


def succeeded_entry(output: Any) -> dict[str, Any]:
    """How a child's successful end is kept for a ResultWriter."""
    return {"Output": output}


def transformed(writer: ResultWriter, inputs: list[Any], results: list[Any]) -> list[Any]:
    """Every child's entry under the writer's Transformation, in item order."""
    succeeded, failed = _split(writer, inputs, results)
    entries = sorted(succeeded + failed, key=lambda pair: pair[0])
    return _flatten(writer, [entry for _, entry in entries])


def write_request(
    writer: ResultWriter,
    scope: Scope,
    state_name: str,
    map_run_arn: str,
    inputs: list[Any],
    results: list[Any],
) -> dict[str, Any]:
    """What the writer's Resource is called with: the bucket and every object to put,
    the manifest last."""
    arguments = writer.arguments(scope) if writer.arguments is not None else {}
    bucket = arguments.get("Bucket") if isinstance(arguments, dict) else None
    if not isinstance(bucket, str) or not bucket:
        raise StatesError(
            ErrorName.RESULT_WRITER_FAILED,
            f"The ResultWriter of state '{state_name}' needs a Bucket (a string), "
            f"got {to_json(bucket)}",
        )
    prefix = str(arguments.get("Prefix") or "").rstrip("/")
    folder = f"{prefix}/{map_run_id(map_run_arn)}/".lstrip("/")
    succeeded, failed = _split(writer, inputs, results)
    objects = []
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status, pairs in (("SUCCEEDED", succeeded), ("FAILED", failed)):
        if not pairs:
            continue
        body = _render(writer, _flatten(writer, [entry for _, entry in pairs]))
        key = f"{folder}{status}_0.json"
        objects.append({"Key": key, "Body": body})
        files[status].append({"Key": key, "Size": len(body.encode("utf-8"))})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    objects.append({"Key": f"{folder}manifest.json", "Body": json.dumps(manifest)})
    return {"Bucket": bucket, "Objects": objects}


def writer_output(map_run_arn: str, details: Any) -> dict[str, Any]:
    """The Map's result once the results are written."""
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": details}


def map_run_id(map_run_arn: str) -> str:
    """The id at the end of a map run's ARN (`...:mapRun:MACHINE/LABEL:ID`)."""
    return map_run_arn.rsplit(":", 1)[-1]


def _split(
    writer: ResultWriter, inputs: list[Any], results: list[Any]
) -> tuple[list[tuple[int, Any]], list[tuple[int, Any]]]:
    """(index, entry) of the succeeded children and of the failed ones."""
    mode = writer.transformation or ("NONE" if writer.resource else "COMPACT")
    succeeded: list[tuple[int, Any]] = []
    failed: list[tuple[int, Any]] = []
    for index, result in enumerate(results):
        value = inputs[index] if index < len(inputs) else None
        ok = isinstance(result, dict) and "Output" in result
        if mode != "NONE":
            entry = result["Output"] if ok else result
        elif ok:
            entry = {**_input(value), **_output(result["Output"]), "Status": "SUCCEEDED"}
        else:
            entry = {**(result if isinstance(result, dict) else {}), **_input(value)}
            entry["Status"] = "FAILED"
        (succeeded if ok else failed).append((index, entry))
    return succeeded, failed


def _input(value: Any) -> dict[str, Any]:
    return {"Input": to_json(value), "InputDetails": {"Included": True}}


def _output(value: Any) -> dict[str, Any]:
    return {"Output": to_json(value), "OutputDetails": {"Included": True}}


def _flatten(writer: ResultWriter, entries: list[Any]) -> list[Any]:
    if writer.transformation != "FLATTEN":
        return entries
    flat: list[Any] = []
    for entry in entries:
        flat.extend(entry if isinstance(entry, list) else [entry])
    return flat


def _render(writer: ResultWriter, entries: list[Any]) -> str:
    if writer.output_type == "JSONL":
        return "".join(to_json(entry) + "\n" for entry in entries)
    return to_json(entries)
