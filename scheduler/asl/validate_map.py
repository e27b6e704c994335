"""Map state checks: the item processor, where items come from, batching, limits, labels.

Covers the Inline and Distributed Map fields of the AWS docs: ItemProcessor (or the legacy
Iterator) with ProcessorConfig, ItemsPath/Items, ItemSelector (or the legacy Parameters),
ItemReader, ItemBatcher, ResultWriter, MaxConcurrency, the tolerated-failure thresholds
and Label. The processor is validated as a state machine of its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from scheduler.asl.validate_common import (
    Code,
    Report,
    StateCtx,
    check_exclusive,
    check_int,
    check_path,
    check_string,
    check_template,
    child,
    expect_object,
    is_jsonata,
    is_number,
    kind,
)
from scheduler.asl.validate_fields import PROCESSOR_FIELDS, check_fields, check_required
from scheduler.asl.validate_states import (
    check_error_handling,
    check_jsonata_payload,
    check_resource,
)

MAX_LABEL_LENGTH = 40
_LABEL_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")

_PROCESSOR_CONFIG_FIELDS = frozenset({"Mode", "ExecutionType"})
_READER_FIELDS = frozenset({"Resource", "Parameters", "Arguments", "ReaderConfig"})
_READER_CONFIG_FIELDS = frozenset(
    {
        "InputType",
        "CSVHeaderLocation",
        "CSVHeaders",
        "CSVDelimiter",
        "MaxItems",
        "MaxItemsPath",
        "ManifestType",
    }
)
_BATCHER_FIELDS = frozenset(
    {
        "MaxItemsPerBatch",
        "MaxItemsPerBatchPath",
        "MaxInputBytesPerBatch",
        "MaxInputBytesPerBatchPath",
        "BatchInput",
    }
)
_WRITER_FIELDS = frozenset({"Resource", "Parameters", "Arguments", "WriterConfig"})
_WRITER_CONFIG_FIELDS = frozenset({"OutputType", "Transformation"})

#: Enumerations AWS may extend: an unlisted value is "unknown" (ERROR or WARNING by policy).
_OPEN_ENUMS: dict[str, tuple[str, ...]] = {
    "InputType": ("CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"),
    "CSVHeaderLocation": ("FIRST_ROW", "GIVEN"),
    "CSVDelimiter": ("COMMA", "PIPE", "SEMICOLON", "SPACE", "TAB"),
    "ManifestType": ("ATHENA_DATA", "S3_INVENTORY"),
    "OutputType": ("JSON", "JSONL"),
    "Transformation": ("NONE", "COMPACT", "FLATTEN"),
}


def check_map(ctx: StateCtx, state: dict[str, Any]) -> None:
    """Map: one item processor, its item source, selectors, limits, label, Retry/Catch."""
    report, at = ctx.report, ctx.location
    _check_processor(ctx, state)
    if "ItemsPath" in state and not ctx.jsonata:
        check_path(report, child(at, "ItemsPath"), state["ItemsPath"])
    if "Items" in state and ctx.jsonata:
        items = state["Items"]
        if not isinstance(items, list) and not is_jsonata(items):
            report.error(
                child(at, "Items"),
                f"must be an array or a JSONata expression {{% ... %}}, got {kind(items)}",
            )
    check_exclusive(report, at, state, "ItemSelector", "Parameters")
    if "ItemSelector" in state:
        selector = state["ItemSelector"]
        if ctx.jsonata:
            check_jsonata_payload(report, child(at, "ItemSelector"), selector)
        elif expect_object(report, child(at, "ItemSelector"), selector) is not None:
            check_template(report, child(at, "ItemSelector"), selector)
    _check_distributed_only(report, at, state)
    if "ItemReader" in state:
        _check_reader(ctx, child(at, "ItemReader"), state["ItemReader"])
    if "ItemBatcher" in state:
        _check_batcher(ctx, child(at, "ItemBatcher"), state["ItemBatcher"])
    if "ResultWriter" in state:
        _check_writer(ctx, child(at, "ResultWriter"), state["ResultWriter"])
    _check_limits(ctx, state)
    if "Label" in state:
        _check_label(report, child(at, "Label"), state["Label"])
    check_error_handling(ctx, state)


def _check_processor(ctx: StateCtx, state: dict[str, Any]) -> None:
    report, at = ctx.report, ctx.location
    present = [name for name in ("ItemProcessor", "Iterator") if name in state]
    if not present:
        report.error(at, 'a Map state must have an "ItemProcessor" (or the legacy "Iterator")')
        return
    if len(present) > 1:
        report.error(
            at, '"ItemProcessor" and "Iterator" are mutually exclusive: use "ItemProcessor"'
        )
    for name in present:
        where = child(at, name)
        processor = state[name]
        if isinstance(processor, dict) and "ProcessorConfig" in processor:
            _check_processor_config(
                report, child(where, "ProcessorConfig"), processor["ProcessorConfig"]
            )
        ctx.nested(processor, where, PROCESSOR_FIELDS, f"a Map {name}")


def _check_distributed_only(report: Report, at: str, state: dict[str, Any]) -> None:
    """ItemReader, ItemBatcher and ResultWriter belong to a DISTRIBUTED Map."""
    processor = state.get("ItemProcessor")
    config = processor.get("ProcessorConfig") if isinstance(processor, dict) else None
    if isinstance(config, dict) and config.get("Mode") == "DISTRIBUTED":
        return
    for name in ("ItemReader", "ItemBatcher", "ResultWriter"):
        if name in state:
            report.error(
                child(at, name),
                f'"{name}" is only for a Map whose ItemProcessor.ProcessorConfig has '
                '"Mode": "DISTRIBUTED"',
            )


def _check_processor_config(report: Report, location: str, value: Any) -> None:
    config = expect_object(report, location, value)
    if config is None:
        return
    check_fields(report, location, config, _PROCESSOR_CONFIG_FIELDS, "a ProcessorConfig")
    mode = config.get("Mode", "INLINE")
    if mode not in ("INLINE", "DISTRIBUTED"):
        report.error(
            child(location, "Mode"), f'must be "INLINE" or "DISTRIBUTED", got {json.dumps(mode)}'
        )
    execution = config.get("ExecutionType")
    if "ExecutionType" in config and execution not in ("STANDARD", "EXPRESS"):
        report.error(
            child(location, "ExecutionType"),
            f'must be "STANDARD" or "EXPRESS", got {json.dumps(execution)}',
        )
    if mode == "DISTRIBUTED" and "ExecutionType" not in config:
        report.error(
            location, 'a DISTRIBUTED Map needs an "ExecutionType" ("STANDARD" or "EXPRESS")'
        )


def _check_payload(ctx: StateCtx, location: str, node: dict[str, Any]) -> None:
    """Parameters (JSONPath) / Arguments (JSONata) of an ItemReader or ResultWriter."""
    if "Parameters" in node and not ctx.jsonata:
        if expect_object(ctx.report, child(location, "Parameters"), node["Parameters"]) is not None:
            check_template(ctx.report, child(location, "Parameters"), node["Parameters"])
    if "Arguments" in node and ctx.jsonata:
        check_jsonata_payload(ctx.report, child(location, "Arguments"), node["Arguments"])


def _check_reader(ctx: StateCtx, location: str, value: Any) -> None:
    report = ctx.report
    reader = expect_object(report, location, value)
    if reader is None:
        return
    check_fields(report, location, reader, _READER_FIELDS, "an ItemReader", jsonata=ctx.jsonata)
    if check_required(report, location, reader, "Resource", "an ItemReader"):
        check_resource(report, child(location, "Resource"), reader["Resource"])
    _check_payload(ctx, location, reader)
    if "ReaderConfig" not in reader:
        return
    where = child(location, "ReaderConfig")
    config = expect_object(report, where, reader["ReaderConfig"])
    if config is None:
        return
    check_fields(report, where, config, _READER_CONFIG_FIELDS, "a ReaderConfig")
    _check_enums(report, where, config)
    check_exclusive(report, where, config, "MaxItems", "MaxItemsPath")
    if "MaxItems" in config:
        check_int(
            report, child(where, "MaxItems"), config["MaxItems"], minimum=0, jsonata=ctx.jsonata
        )
    if "MaxItemsPath" in config:
        check_path(report, child(where, "MaxItemsPath"), config["MaxItemsPath"])
    headers = config.get("CSVHeaders")
    if "CSVHeaders" in config and not (
        isinstance(headers, list) and all(isinstance(h, str) for h in headers)
    ):
        report.error(child(where, "CSVHeaders"), "must be an array of strings")
    if config.get("CSVHeaderLocation") == "GIVEN" and "CSVHeaders" not in config:
        report.error(where, 'CSVHeaderLocation "GIVEN" needs "CSVHeaders"')


def _check_batcher(ctx: StateCtx, location: str, value: Any) -> None:
    report = ctx.report
    batcher = expect_object(report, location, value)
    if batcher is None:
        return
    check_fields(report, location, batcher, _BATCHER_FIELDS, "an ItemBatcher")
    limits = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")
    if not any(name in batcher or f"{name}Path" in batcher for name in limits):
        report.error(
            location,
            'an ItemBatcher needs "MaxItemsPerBatch" or '
            '"MaxInputBytesPerBatch" (or their "...Path" forms)',
        )
    for name in limits:
        check_exclusive(report, location, batcher, name, f"{name}Path")
        if name in batcher:
            check_int(report, child(location, name), batcher[name], minimum=1, jsonata=ctx.jsonata)
        if f"{name}Path" in batcher:
            check_path(report, child(location, f"{name}Path"), batcher[f"{name}Path"])
    if "BatchInput" in batcher:
        where = child(location, "BatchInput")
        if ctx.jsonata:
            check_jsonata_payload(report, where, batcher["BatchInput"])
        elif expect_object(report, where, batcher["BatchInput"]) is not None:
            check_template(report, where, batcher["BatchInput"])


def _check_writer(ctx: StateCtx, location: str, value: Any) -> None:
    report = ctx.report
    writer = expect_object(report, location, value)
    if writer is None:
        return
    check_fields(report, location, writer, _WRITER_FIELDS, "a ResultWriter", jsonata=ctx.jsonata)
    if "Resource" in writer:
        check_resource(report, child(location, "Resource"), writer["Resource"])
    elif "WriterConfig" not in writer:
        report.error(location, 'a ResultWriter needs a "Resource" or a "WriterConfig"')
    _check_payload(ctx, location, writer)
    if "WriterConfig" in writer:
        where = child(location, "WriterConfig")
        config = expect_object(report, where, writer["WriterConfig"])
        if config is not None:
            check_fields(report, where, config, _WRITER_CONFIG_FIELDS, "a WriterConfig")
            _check_enums(report, where, config)


def _check_enums(report: Report, location: str, config: dict[str, Any]) -> None:
    for name, values in _OPEN_ENUMS.items():
        if name in config and config[name] not in values:
            listed = ", ".join(f'"{v}"' for v in values)
            report.unknown(
                child(location, name),
                f"unknown value {json.dumps(config[name])}: expected one of {listed}",
            )


def _check_limits(ctx: StateCtx, state: dict[str, Any]) -> None:
    """MaxConcurrency and the tolerated-failure thresholds, each static or by path."""
    report, at = ctx.report, ctx.location
    for name in ("MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage"):
        check_exclusive(report, at, state, name, f"{name}Path")
        if f"{name}Path" in state and not ctx.jsonata:
            check_path(report, child(at, f"{name}Path"), state[f"{name}Path"])
    for name in ("MaxConcurrency", "ToleratedFailureCount"):
        if name in state:
            check_int(report, child(at, name), state[name], minimum=0, jsonata=ctx.jsonata)
    percentage = state.get("ToleratedFailurePercentage")
    if "ToleratedFailurePercentage" in state and not (ctx.jsonata and is_jsonata(percentage)):
        if not is_number(percentage) or not 0 <= percentage <= 100:
            shown = json.dumps(percentage) if is_number(percentage) else kind(percentage)
            report.error(
                child(at, "ToleratedFailurePercentage"),
                f"must be a number from 0 to 100, got {shown}",
            )


def _check_label(report: Report, location: str, label: Any) -> None:
    """Label: up to 40 characters, no whitespace or special characters, unique."""
    if not check_string(report, location, label):
        return
    if not label or len(label) > MAX_LABEL_LENGTH:
        report.error(
            location,
            f"a Label must be 1 to {MAX_LABEL_LENGTH} characters long",
            Code.INVALID_LABEL_NAME,
        )
    bad = _LABEL_FORBIDDEN.search(label)
    if bad:
        report.error(
            location,
            f"a Label must not contain {json.dumps(bad.group())}: no "
            "whitespace, brackets, wildcards, control or special characters",
            Code.INVALID_LABEL_NAME,
        )
    if label in report.labels:
        report.error(
            location,
            f'Label "{label}" is already used at {report.labels[label]}',
            Code.DUPLICATE_LABEL_NAME,
        )
    else:
        report.labels[label] = location
