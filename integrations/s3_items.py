"""A Distributed Map's S3 calls: its ItemReader's and its ResultWriter's Resources.

- `arn:aws:states:::s3:getObject` reads one object (`Bucket`, `Key`, `VersionId`) and
  gives `{"Body": text}`; for `InputType: MANIFEST` the object is an S3 inventory's
  `manifest.json`: the CSV files it lists (gzipped or not) are read from its destination
  bucket and given as one text, with the manifest's `fileSchema` as `CSVHeaders`;
- `arn:aws:states:::s3:listObjectsV2` lists objects (`Bucket`, `Prefix`, ...), every page,
  and gives `{"Contents": [item, ...]}`;
- `arn:aws:states:::s3:putObject` puts the result files a ResultWriter laid out and
  gives `{"Bucket": ..., "Key": <the manifest's key>}`.

A reader is called with `{"Arguments": <the S3 request>, "InputType": ...}`, a writer
with `{"Bucket": ..., "Objects": [{"Key", "Body"}, ...]}`. The engine sends these on the
task path (see `scheduler/engine/map_io.py`); the
interpreter parses what a reader returns (`scheduler/asl/item_reader.py`) and lays out
what a writer puts (`scheduler/asl/result_writer.py`), so this module only does the I/O.
A listed object's item is shaped as AWS documents: `Etag`, `Key`, `LastModified` (epoch
seconds), `Size`, `StorageClass`. S3 errors are named as the aws-sdk integration names
them (`S3.NoSuchKeyException`); the engine reports them as States.ItemReaderFailed or
States.ResultWriterFailed.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from integrations.aws_clients import AwsClients, operation_model, to_request
from integrations.aws_errors import call_failure, v2_naming
from scheduler.asl.errors import ErrorName, StatesError
from scheduler.asl.item_reader import MAX_ITEMS

PREFIX = "arn:aws:states:::s3:"
MAX_OBJECT_BYTES = 256 * 1024 * 1024
"""The largest object an ItemReader reads (it is read whole, into memory)."""


class S3Items:
    """The ItemReader and ResultWriter S3 resources over the shared boto3 clients."""

    def __init__(self, clients: AwsClients) -> None:
        self.clients = clients

    def __call__(self, resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        action = resource[len(PREFIX) :]
        if action not in ("getObject", "listObjectsV2", "putObject"):
            raise StatesError(
                ErrorName.RUNTIME,
                f"'{resource}' is not an ItemReader or ResultWriter resource (s3:getObject, "
                "s3:listObjectsV2, s3:putObject)",
            )
        if not isinstance(payload, dict):
            raise StatesError(ErrorName.RUNTIME, f"'{resource}' needs arguments that are an object")
        client = self.clients.client("s3")
        try:
            return self._call(client, action, payload)
        except StatesError:
            raise
        except Exception as exc:  # noqa: BLE001 - every S3 failure becomes the call's error
            raise call_failure(v2_naming("S3"), exc, client) from None

    def _call(self, client: Any, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        if action == "putObject":
            return self._put_objects(client, payload)
        arguments = payload.get("Arguments")
        if not isinstance(arguments, dict):
            raise _failed(f"the ItemReader's arguments must be an object, got {arguments!r}")
        if payload.get("ManifestType") == "ATHENA_DATA":
            raise _failed("ManifestType ATHENA_DATA is not supported by Stepline (S3_INVENTORY is)")
        if action == "listObjectsV2":
            return self._list_objects(client, arguments)
        if payload.get("InputType") == "MANIFEST":
            return self._inventory(client, arguments)
        return self._get_object(client, arguments)

    def _get_object(self, client: Any, payload: dict[str, Any]) -> dict[str, Any]:
        request = to_request(payload, _input_shape(client, "GetObject"))
        name = f"s3://{payload.get('Bucket')}/{payload.get('Key')}"
        return {"Body": _text(name, _read(client, request, name))}

    def _inventory(self, client: Any, payload: dict[str, Any]) -> dict[str, Any]:
        """An S3 inventory: its manifest, then the CSV files the manifest lists."""
        name = f"s3://{payload.get('Bucket')}/{payload.get('Key')}"
        request = to_request(payload, _input_shape(client, "GetObject"))
        try:
            manifest = json.loads(_read(client, request, name))
            bucket = str(manifest["destinationBucket"]).rsplit(":", 1)[-1]
            schema = [column.strip() for column in str(manifest["fileSchema"]).split(",")]
            keys = [str(entry["key"]) for entry in manifest["files"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise _failed(f"{name} is not an S3 inventory manifest: {exc!r}") from None
        if manifest.get("fileFormat", "CSV") != "CSV":
            raise _failed(f"{name}: only CSV inventories can be read, not {manifest['fileFormat']}")
        texts, total = [], 0
        for key in keys:
            data = _read(client, {"Bucket": bucket, "Key": key}, f"s3://{bucket}/{key}")
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            total += len(data)
            if total > MAX_OBJECT_BYTES:
                raise _failed(f"the inventory {name} is over {MAX_OBJECT_BYTES} bytes")
            texts.append(_text(f"s3://{bucket}/{key}", data).rstrip("\r\n"))
        return {"Body": "\n".join(texts), "CSVHeaders": schema}

    def _list_objects(self, client: Any, payload: dict[str, Any]) -> dict[str, Any]:
        request = to_request(payload, _input_shape(client, "ListObjectsV2"))
        contents: list[dict[str, Any]] = []
        for page in client.get_paginator("list_objects_v2").paginate(**request):
            contents.extend(_listed_item(entry) for entry in page.get("Contents", ()))
            if len(contents) > MAX_ITEMS:
                break  # the reader refuses this many; no need to list the rest
        return {"Contents": contents}

    def _put_objects(self, client: Any, payload: dict[str, Any]) -> dict[str, Any]:
        bucket = payload.get("Bucket")
        objects = payload.get("Objects") or []
        for item in objects:
            client.put_object(
                Bucket=bucket,
                Key=item["Key"],
                Body=item["Body"].encode("utf-8"),
                ContentType="application/json",
            )
        return {"Bucket": bucket, "Key": objects[-1]["Key"] if objects else ""}


def _read(client: Any, request: dict[str, Any], name: str) -> bytes:
    """An object's bytes, refusing one over MAX_OBJECT_BYTES before reading it."""
    response = client.get_object(**request)
    size = int(response.get("ContentLength") or 0)
    if size > MAX_OBJECT_BYTES:
        response["Body"].close()
        raise _failed(f"{name} is {size} bytes, over the {MAX_OBJECT_BYTES} an ItemReader reads")
    return bytes(response["Body"].read())


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _failed(f"{name} is not UTF-8 text") from None


def _failed(cause: str) -> StatesError:
    return StatesError(ErrorName.ITEM_READER_FAILED, cause)


def _input_shape(client: Any, operation: str) -> Any:
    model = operation_model(client, operation)
    return model.input_shape if model is not None else None


def _listed_item(entry: dict[str, Any]) -> dict[str, Any]:
    """One listed object as AWS's listObjectsV2 reader gives it to an iteration."""
    modified = entry.get("LastModified")
    return {
        "Etag": entry.get("ETag"),
        "Key": entry.get("Key"),
        "LastModified": int(modified.timestamp()) if modified is not None else None,
        "Size": entry.get("Size"),
        "StorageClass": entry.get("StorageClass"),
    }
