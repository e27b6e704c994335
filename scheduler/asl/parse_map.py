"""Compiling a Distributed Map's ItemReader, ItemBatcher and ResultWriter (validated
already by `validate_map`)."""

from __future__ import annotations

from typing import Any

from scheduler.asl.item_batcher import ItemBatcher
from scheduler.asl.item_reader import ItemReader
from scheduler.asl.jsonata_fields import compile_value
from scheduler.asl.parse_fields import path_field, scalar
from scheduler.asl.payload import Evaluator, compile_template
from scheduler.asl.result_writer import ResultWriter


def map_io(body: dict[str, Any], jsonata: bool) -> dict[str, Any]:
    """The MapState fields `reader`, `batcher` and `writer` (None when absent)."""
    return {
        "reader": _reader(body["ItemReader"], jsonata) if "ItemReader" in body else None,
        "batcher": _batcher(body["ItemBatcher"], jsonata) if "ItemBatcher" in body else None,
        "writer": _writer(body["ResultWriter"], jsonata) if "ResultWriter" in body else None,
    }


def _arguments(node: dict[str, Any], jsonata: bool) -> Evaluator | None:
    """Parameters (JSONPath) or Arguments (JSONata) of a reader or writer."""
    if jsonata:
        return compile_value(node["Arguments"], "Arguments") if "Arguments" in node else None
    return compile_template(node["Parameters"]) if "Parameters" in node else None


def _reader(node: dict[str, Any], jsonata: bool) -> ItemReader:
    config = node.get("ReaderConfig") or {}
    literal, expression = scalar(config, "MaxItems", jsonata)
    return ItemReader(
        resource=node["Resource"],
        arguments=_arguments(node, jsonata),
        input_type=config.get("InputType", "JSON"),
        csv_header_location=config.get("CSVHeaderLocation", "FIRST_ROW"),
        csv_headers=tuple(config.get("CSVHeaders", ())),
        csv_delimiter=config.get("CSVDelimiter", "COMMA"),
        manifest_type=config.get("ManifestType"),
        max_items=literal,
        max_items_path=path_field(config, "MaxItemsPath"),
        max_items_expr=expression,
    )


def _batcher(node: dict[str, Any], jsonata: bool) -> ItemBatcher:
    per_batch, per_batch_expr = scalar(node, "MaxItemsPerBatch", jsonata)
    max_bytes, max_bytes_expr = scalar(node, "MaxInputBytesPerBatch", jsonata)
    batch_input: Evaluator | None = None
    if "BatchInput" in node:
        value = node["BatchInput"]
        batch_input = compile_value(value, "BatchInput") if jsonata else compile_template(value)
    return ItemBatcher(
        max_items_per_batch=per_batch,
        max_items_per_batch_path=path_field(node, "MaxItemsPerBatchPath"),
        max_items_per_batch_expr=per_batch_expr,
        max_input_bytes_per_batch=max_bytes,
        max_input_bytes_per_batch_path=path_field(node, "MaxInputBytesPerBatchPath"),
        max_input_bytes_per_batch_expr=max_bytes_expr,
        batch_input=batch_input,
    )


def _writer(node: dict[str, Any], jsonata: bool) -> ResultWriter:
    config = node.get("WriterConfig") or {}
    return ResultWriter(
        resource=node.get("Resource"),
        arguments=_arguments(node, jsonata),
        output_type=config.get("OutputType", "JSON"),
        transformation=config.get("Transformation"),
    )
