"""State machine actions: Create, Describe, Update, Delete, List, Validate."""

from __future__ import annotations

from typing import Any

from scheduler.api.protocol import Action, Context, date, drop_none, tag_dict
from scheduler.asl.validate import validate_definition_text
from scheduler.service.names import ArnKind, expect_arn
from scheduler.service.pagination import page
from scheduler.service.records import DEFAULT_LOGGING, DEFAULT_TRACING, MachineConfig
from scheduler.service.registry import definition_problems

#: ValidateStateMachineDefinition returns at most this many diagnostics.
MAX_DIAGNOSTICS = 100


def _config(body: dict[str, Any]) -> MachineConfig:
    return MachineConfig(
        definition=body["definition"],
        role_arn=body["roleArn"],
        type=body.get("type") or "STANDARD",
        logging={**DEFAULT_LOGGING, **(body.get("loggingConfiguration") or {})},
        tracing={**DEFAULT_TRACING, **(body.get("tracingConfiguration") or {})},
        encryption=body.get("encryptionConfiguration"),
    )


def create_state_machine(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    machine, version = ctx.service.create_state_machine(
        body["name"],
        _config(body),
        tags=tag_dict(body.get("tags")),
        publish=bool(body.get("publish")),
        version_description=body.get("versionDescription"),
    )
    return drop_none(
        {
            "stateMachineArn": machine.arn,
            "creationDate": date(machine.creation_date),
            "stateMachineVersionArn": version.arn if version else None,
        }
    )


def _describe_config(config: MachineConfig) -> dict[str, Any]:
    return drop_none(
        {
            "definition": config.definition,
            "roleArn": config.role_arn,
            "type": config.type,
            "loggingConfiguration": config.logging,
            "tracingConfiguration": config.tracing,
            "encryptionConfiguration": config.encryption,
        }
    )


def describe_state_machine(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    service = ctx.service
    arn = expect_arn(body["stateMachineArn"], ArnKind.STATE_MACHINE, ArnKind.VERSION)
    machine = service.registry.get_parsed(arn)
    if arn.kind == ArnKind.STATE_MACHINE:
        return {
            "stateMachineArn": machine.arn,
            "name": machine.name,
            "status": "ACTIVE",
            **_describe_config(machine.machine_config()),
            "creationDate": date(machine.creation_date),
            "revisionId": machine.revision_id,
        }
    version = service.versions.get(arn)
    revision = service.registry.revision(machine.name, version.revision_id)
    config = revision.machine_config() if revision else machine.machine_config()
    return drop_none(
        {
            "stateMachineArn": version.arn,
            "name": machine.name,
            "status": "ACTIVE",
            **_describe_config(config),
            "creationDate": date(version.creation_date),
            "revisionId": version.revision_id,
            "description": version.description,
        }
    )


def update_state_machine(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "definition": body.get("definition"),
        "role_arn": body.get("roleArn"),
        "logging": body.get("loggingConfiguration"),
        "tracing": body.get("tracingConfiguration"),
        "encryption": body.get("encryptionConfiguration"),
    }
    machine, version = ctx.service.update_state_machine(
        body["stateMachineArn"],
        changes,
        publish=bool(body.get("publish")),
        version_description=body.get("versionDescription"),
    )
    return drop_none(
        {
            "updateDate": date(machine.update_date),
            "revisionId": machine.revision_id,
            "stateMachineVersionArn": version.arn if version else None,
        }
    )


def delete_state_machine(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    ctx.service.delete_state_machine(body["stateMachineArn"])
    return {}


def list_state_machines(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    machines, token = page(
        ctx.service.registry.all(),
        lambda m: [m.creation_date, m.name],
        scope="stateMachines",
        max_results=body.get("maxResults"),
        token=body.get("nextToken"),
    )
    listed = [
        {
            "stateMachineArn": m.arn,
            "name": m.name,
            "type": m.machine_config().type,
            "creationDate": date(m.creation_date),
        }
        for m in machines
    ]
    return drop_none({"stateMachines": listed, "nextToken": token})


def validate_state_machine_definition(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    registry = ctx.service.registry
    text = body["definition"]
    found = validate_definition_text(
        text, unknown_fields_are_errors=registry.unknown_fields_are_errors
    )
    if not any(d.severity == "ERROR" for d in found):
        found += definition_problems(
            text, body.get("type") or "STANDARD",
            unknown_fields_are_errors=registry.unknown_fields_are_errors,
        )
    failed = any(d.severity == "ERROR" for d in found)
    if (body.get("severity") or "ERROR") == "ERROR":
        found = [d for d in found if d.severity == "ERROR"]
    limit = min(body.get("maxResults") or MAX_DIAGNOSTICS, MAX_DIAGNOSTICS)
    diagnostics = [
        {"severity": d.severity, "code": d.code, "message": d.message, "location": d.location}
        for d in found[:limit]
    ]
    return {
        "result": "FAIL" if failed else "OK",
        "diagnostics": diagnostics,
        "truncated": len(found) > limit,
    }


ACTIONS: dict[str, Action] = {
    "CreateStateMachine": create_state_machine,
    "DescribeStateMachine": describe_state_machine,
    "UpdateStateMachine": update_state_machine,
    "DeleteStateMachine": delete_state_machine,
    "ListStateMachines": list_state_machines,
    "ValidateStateMachineDefinition": validate_state_machine_definition,
}
