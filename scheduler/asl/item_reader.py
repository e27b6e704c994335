"""A Distributed Map's ItemReader: the call that reads the items, and the items it gives.

Pure. Entering a Map with an ItemReader evaluates the reader's `Parameters` (JSONPath) or
`Arguments` (JSONata) and checks `MaxItems`/`MaxItemsPath`; the engine then calls the
reader's Resource on the task path (`integrations/s3_items.py` does the S3 I/O), and
`read_items` turns what came back into the items, as `ReaderConfig` says:

- `arn:aws:states:::s3:getObject` gives `{"Body": text}`, parsed by `InputType`: `JSON`
  (an array), `JSONL` (one value per line) or `CSV` (rows as objects of strings, headers
  from the first row or `CSVHeaders`, `CSVDelimiter`); with `MANIFEST` (an S3 inventory's
  manifest.json) the integration reads the CSV files it lists and gives their text with
  the manifest's `fileSchema` as `CSVHeaders`: one item per inventory row;
- `arn:aws:states:::s3:listObjectsV2` gives `{"Contents": [...]}`: each object's metadata
  is an item.

The call's payload is `{"Arguments": ..., "InputType": ...}` (and `ManifestType` when
set): the S3 request, and what the integration must fetch for it (a manifest names more
objects to read).

`MaxItems` keeps the first N items (0, or none: all of them). As on AWS, ItemsPath does not
apply to items read by an ItemReader. Failures are `States.ItemReaderFailed`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from scheduler.asl.errors import ErrorName, QueryEvaluationError, StateRuntimeError, StatesError
from scheduler.asl.jsonata_fields import FieldValue, json_type
from scheduler.asl.paths import Path, PathNotFound
from scheduler.asl.payload import Evaluator, to_json
from scheduler.asl.scope import Scope

GET_OBJECT = "arn:aws:states:::s3:getObject"
LIST_OBJECTS = "arn:aws:states:::s3:listObjectsV2"

DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}
MAX_CSV_HEADER_BYTES = 10 * 1024
"""AWS: "Step Functions supports CSV headers of up to 10 KiB"."""
MAX_ITEMS = 100_000
"""Stepline's limit on the items one map run reads (AWS's is 100,000,000): every item is
a child run held in the store, so a larger dataset fails clearly instead of swamping it."""


@dataclass(frozen=True, slots=True)
class ItemReader:
    """A compiled `ItemReader`: the resource, its arguments and the ReaderConfig."""

    resource: str
    arguments: Evaluator | None
    """Parameters (JSONPath, against the effective input) or Arguments (JSONata)."""
    input_type: str = "JSON"
    csv_header_location: str = "FIRST_ROW"
    csv_headers: tuple[str, ...] = ()
    csv_delimiter: str = "COMMA"
    manifest_type: str | None = None
    max_items: int | None = None
    max_items_path: Path | None = None
    max_items_expr: FieldValue | None = None


def reader_request(reader: ItemReader, scope: Scope) -> dict[str, Any]:
    """What the reader's Resource is called with: the S3 arguments (`{"Bucket": ...,
    "Key": ...}`) and the InputType."""
    arguments = reader.arguments(scope) if reader.arguments is not None else {}
    request = {"Arguments": arguments, "InputType": reader.input_type}
    if reader.manifest_type is not None:
        request["ManifestType"] = reader.manifest_type
    return request


def max_items(reader: ItemReader, scope: Scope) -> int:
    """The MaxItems limit; 0 means every item. Raises AWS's error for a bad path value."""
    if reader.max_items_expr is not None:
        value = reader.max_items_expr(scope)
        if value < 0:
            raise QueryEvaluationError("MaxItems cannot be negative.", "MaxItems")
        return int(value)
    if reader.max_items_path is None:
        return reader.max_items or 0
    path = reader.max_items_path
    try:
        value = scope.resolve(path)
    except PathNotFound as missing:
        raise StateRuntimeError(f"Invalid path '{path.text}' : {missing.reason}") from None
    if isinstance(value, str) and value.strip().lstrip("+").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        shown = value if isinstance(value, str) else to_json(value)
        raise StateRuntimeError(
            f'The MaxItemsPath field refers to value "{shown}" which is not a valid integer: '
            f"{path.text}"
        )
    return value


def read_items(reader: ItemReader, state_name: str, result: Any, limit: int) -> list[Any]:
    """The items in the reader's result, at most `limit` of them (0: all)."""
    cap = limit or MAX_ITEMS + 1  # rows past it are not parsed: they could only fail
    if reader.resource == LIST_OBJECTS:
        items = _listed(state_name, result)
    elif reader.input_type == "MANIFEST":
        items = _inventory_items(state_name, result, cap)
    else:
        items = parse_body(reader, state_name, _body(state_name, result), cap)
    items = items[:cap]
    if len(items) > MAX_ITEMS:
        raise reader_failed(
            f"The ItemReader of state '{state_name}' read more than {MAX_ITEMS} items, "
            "Stepline's limit for one map run: set MaxItems, or split the dataset"
        )
    return items


def parse_body(reader: ItemReader, state_name: str, body: str, limit: int = 0) -> list[Any]:
    """An object's text as items, by the reader's InputType."""
    if reader.input_type == "JSON":
        return _json_items(state_name, body)
    if reader.input_type == "JSONL":
        return _jsonl_items(state_name, body, limit)
    if reader.input_type == "CSV":
        return csv_items(reader, state_name, body, limit)
    raise reader_failed(
        f"The ItemReader of state '{state_name}': InputType '{reader.input_type}' is not "
        "supported by Stepline (JSON, JSONL, CSV and MANIFEST are)"
    )


def _inventory_items(state_name: str, result: Any, limit: int) -> list[Any]:
    """An S3 inventory's rows, keyed by its manifest's fileSchema."""
    headers = result.get("CSVHeaders") if isinstance(result, dict) else None
    if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
        raise reader_failed(f"The ItemReader of state '{state_name}' got no inventory schema")
    inventory = ItemReader(
        GET_OBJECT, None, "CSV", csv_header_location="GIVEN", csv_headers=tuple(headers)
    )
    return csv_items(inventory, state_name, _body(state_name, result), limit)


def reader_failed(cause: str) -> StatesError:
    """The error a map run fails with when its items cannot be read."""
    return StatesError(ErrorName.ITEM_READER_FAILED, cause)


def _body(state_name: str, result: Any) -> str:
    body = result.get("Body") if isinstance(result, dict) else None
    if not isinstance(body, str):
        raise reader_failed(f"The ItemReader of state '{state_name}' got no object text")
    return body


def _listed(state_name: str, result: Any) -> list[Any]:
    contents = result.get("Contents") if isinstance(result, dict) else None
    if not isinstance(contents, list):
        raise reader_failed(f"The ItemReader of state '{state_name}' got no object list")
    return contents


def _json_items(state_name: str, body: str) -> list[Any]:
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise reader_failed(
            f"The ItemReader of state '{state_name}' could not parse the object as JSON: {exc}"
        ) from None
    if not isinstance(value, list):
        raise reader_failed(
            f"The ItemReader of state '{state_name}' needs a JSON array, the object holds "
            f"a JSON {json_type(value)}"
        )
    return value


def _jsonl_items(state_name: str, body: str, limit: int) -> list[Any]:
    items = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except ValueError as exc:
            raise reader_failed(
                f"The ItemReader of state '{state_name}' could not parse line {number} of the "
                f"object as JSON: {exc}"
            ) from None
        if limit and len(items) >= limit:
            break
    return items


def csv_items(reader: ItemReader, state_name: str, body: str, limit: int = 0) -> list[Any]:
    """CSV rows as objects of strings: a short row's missing fields are "" and a long
    row's extra fields are dropped, as AWS does; blank lines are skipped."""
    delimiter = DELIMITERS.get(reader.csv_delimiter, ",")
    rows = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=True)
    items: list[dict[str, str]] = []
    try:
        headers = list(reader.csv_headers) if reader.csv_header_location == "GIVEN" else None
        for row in rows:
            if not row:
                continue
            if headers is None:
                headers = row
                _check_headers(state_name, headers, delimiter)
                continue
            items.append({name: row[i] if i < len(row) else "" for i, name in enumerate(headers)})
            if limit and len(items) >= limit:
                break
    except csv.Error as exc:
        raise reader_failed(
            f"The ItemReader of state '{state_name}' could not parse line {rows.line_num} "
            f"of the CSV object: {exc}"
        ) from None
    if reader.csv_header_location == "GIVEN":
        _check_headers(state_name, list(reader.csv_headers), delimiter)
    return items


def _check_headers(state_name: str, headers: list[str], delimiter: str) -> None:
    if len(set(headers)) != len(headers):
        raise reader_failed("CSV headers cannot contain duplicates.")
    if len(delimiter.join(headers).encode("utf-8")) > MAX_CSV_HEADER_BYTES:
        raise reader_failed(
            f"The ItemReader of state '{state_name}': CSV headers cannot exceed "
            f"{MAX_CSV_HEADER_BYTES} bytes"
        )

