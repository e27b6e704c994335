"""Version and alias actions: Publish/List/DeleteStateMachineVersion and the aliases."""

from __future__ import annotations

from typing import Any

from scheduler.api.protocol import Action, Context, date, drop_none
from scheduler.service.names import ArnKind, expect_arn
from scheduler.service.pagination import page
from scheduler.service.records import Alias


def publish_state_machine_version(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    service = ctx.service
    machine = service.registry.get(body["stateMachineArn"])
    version = service.versions.publish(machine, body.get("description"), body.get("revisionId"))
    return {"creationDate": date(version.creation_date), "stateMachineVersionArn": version.arn}


def list_state_machine_versions(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    service = ctx.service
    machine = service.registry.get(body["stateMachineArn"])
    versions, token = page(
        service.versions.all(machine.name),
        lambda v: [v.number],
        scope=f"versions:{machine.arn}",
        max_results=body.get("maxResults"),
        token=body.get("nextToken"),
        descending=True,
    )
    listed = [
        {"stateMachineVersionArn": v.arn, "creationDate": date(v.creation_date)} for v in versions
    ]
    return drop_none({"stateMachineVersions": listed, "nextToken": token})


def delete_state_machine_version(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    ctx.service.versions.delete(body["stateMachineVersionArn"])
    return {}


def create_state_machine_alias(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    alias = ctx.service.versions.create_alias(
        body["name"], body.get("description"), body["routingConfiguration"]
    )
    return {"stateMachineAliasArn": alias.arn, "creationDate": date(alias.creation_date)}


def _describe_alias(alias: Alias) -> dict[str, Any]:
    return drop_none(
        {
            "stateMachineAliasArn": alias.arn,
            "name": alias.name,
            "description": alias.description,
            "routingConfiguration": alias.routing,
            "creationDate": date(alias.creation_date),
            "updateDate": date(alias.update_date),
        }
    )


def describe_state_machine_alias(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return _describe_alias(ctx.service.versions.get_alias(body["stateMachineAliasArn"]))


def update_state_machine_alias(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    alias = ctx.service.versions.update_alias(
        body["stateMachineAliasArn"], body.get("description"), body.get("routingConfiguration")
    )
    return {"updateDate": date(alias.update_date)}


def delete_state_machine_alias(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    ctx.service.versions.delete_alias(body["stateMachineAliasArn"])
    return {}


def list_state_machine_aliases(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    service = ctx.service
    arn = expect_arn(body["stateMachineArn"], ArnKind.STATE_MACHINE)
    machine = service.registry.get_parsed(arn)
    aliases, token = page(
        service.versions.aliases(machine.name),
        lambda a: [a.creation_date, a.name],
        scope=f"aliases:{machine.arn}",
        max_results=body.get("maxResults"),
        token=body.get("nextToken"),
    )
    listed = [
        {"stateMachineAliasArn": a.arn, "creationDate": date(a.creation_date)} for a in aliases
    ]
    return drop_none({"stateMachineAliases": listed, "nextToken": token})


ACTIONS: dict[str, Action] = {
    "PublishStateMachineVersion": publish_state_machine_version,
    "ListStateMachineVersions": list_state_machine_versions,
    "DeleteStateMachineVersion": delete_state_machine_version,
    "CreateStateMachineAlias": create_state_machine_alias,
    "DescribeStateMachineAlias": describe_state_machine_alias,
    "UpdateStateMachineAlias": update_state_machine_alias,
    "DeleteStateMachineAlias": delete_state_machine_alias,
    "ListStateMachineAliases": list_state_machine_aliases,
}
