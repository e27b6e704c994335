"""Activity and tag actions."""

from __future__ import annotations

from typing import Any

from scheduler.api.protocol import Action, Context, date, drop_none, tag_dict, tag_list
from scheduler.service.pagination import page


def create_activity(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    service = ctx.service
    activity = service.activities.create(body["name"], body.get("encryptionConfiguration"))
    tags = tag_dict(body.get("tags"))
    if tags:
        service.tags.add(activity.arn, tags)
    return {"activityArn": activity.arn, "creationDate": date(activity.creation_date)}


def describe_activity(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    activity = ctx.service.activities.get(body["activityArn"])
    return drop_none(
        {
            "activityArn": activity.arn,
            "name": activity.name,
            "creationDate": date(activity.creation_date),
            "encryptionConfiguration": activity.encryption,
        }
    )


def delete_activity(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    ctx.service.delete_activity(body["activityArn"])
    return {}


def list_activities(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    activities, token = page(
        ctx.service.activities.all(),
        lambda a: [a.creation_date, a.name],
        scope="activities",
        max_results=body.get("maxResults"),
        token=body.get("nextToken"),
    )
    listed = [
        {"activityArn": a.arn, "name": a.name, "creationDate": date(a.creation_date)}
        for a in activities
    ]
    return drop_none({"activities": listed, "nextToken": token})


def tag_resource(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    ctx.service.tag_resource(body["resourceArn"], tag_dict(body["tags"]))
    return {}


def untag_resource(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    ctx.service.untag_resource(body["resourceArn"], [str(k) for k in body["tagKeys"]])
    return {}


def list_tags_for_resource(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return {"tags": tag_list(ctx.service.list_tags(body["resourceArn"]))}


ACTIONS: dict[str, Action] = {
    "CreateActivity": create_activity,
    "DescribeActivity": describe_activity,
    "DeleteActivity": delete_activity,
    "ListActivities": list_activities,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
