"""Lambda handlers for the file-processing example.

Each function is deployable as an AWS Lambda handler (`handler(event, context)`). To keep
the example self-contained the uploaded file's text travels in the event (`body`); on AWS
`process_file` would read `s3://{bucket}/{key}` and `store_file` would copy the object.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import posixpath
from typing import Any

PROCESSED_BUCKET = "acme-data-processed"

# File extensions and the type each one claims to be.
EXTENSIONS = {".csv": "csv", ".json": "json", ".txt": "text", ".exe": "executable"}


class MalformedFile(Exception):
    """The file claims a supported type but its content does not parse as that type."""


def _count_records(file_type: str, body: str) -> int:
    if file_type == "csv":
        rows = list(csv.DictReader(io.StringIO(body)))
        if rows and None in rows[0]:
            raise MalformedFile("CSV row has more fields than the header")
        return len(rows)
    if file_type == "json":
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise MalformedFile(f"invalid JSON: {exc}") from exc
        return len(document) if isinstance(document, list) else 1
    return 0


def process_file(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Work out the uploaded file's type and summarise its content."""
    key = event["key"]
    body = event.get("body", "")
    extension = posixpath.splitext(key)[1].lower()
    file_type = EXTENSIONS.get(extension, "unknown")
    return {
        "fileType": file_type,
        "sizeBytes": len(body.encode("utf-8")),
        "records": _count_records(file_type, body),
        "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
    }


def store_file(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Store a validated file under `processed/<type>/<original path>`."""
    processed = event["processed"]
    source_key = event["key"]
    relative = source_key.removeprefix("incoming/")
    return {
        "source": f"s3://{event['bucket']}/{source_key}",
        "bucket": PROCESSED_BUCKET,
        "key": f"processed/{processed['fileType']}/{relative}",
        "fileType": processed["fileType"],
        "records": processed["records"],
        "sha256": processed["sha256"],
    }
