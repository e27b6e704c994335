"""State machines, versions, aliases, activities and tags, through boto3."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import ROLE, definition, unique

PASS = definition(P={"Type": "Pass", "End": True})
WAIT = definition(W={"Type": "Wait", "Seconds": 60, "End": True})


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_create_describe_update_delete(sfn: Any) -> None:
    name = unique("orders")
    created = sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE,
                                       tags=[{"key": "team", "value": "shop"}])
    arn = created["stateMachineArn"]
    assert arn == f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    assert isinstance(created["creationDate"], datetime)
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert (described["name"], described["status"], described["type"]) == (name, "ACTIVE",
                                                                           "STANDARD")
    assert described["definition"] == PASS and described["roleArn"] == ROLE
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=WAIT, publish=True,
                                       versionDescription="wait a minute")
    assert updated["revisionId"] != described["revisionId"]
    assert updated["stateMachineVersionArn"] == f"{arn}:1"
    assert sfn.describe_state_machine(stateMachineArn=arn)["definition"] == WAIT
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team",
                                                                    "value": "shop"}]
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=arn)


def test_create_is_idempotent_and_refuses_a_different_machine_of_the_same_name(sfn: Any) -> None:
    name = unique("dup")
    first = sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE)
    again = sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE)
    assert again["creationDate"] == first["creationDate"]
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        sfn.create_state_machine(name=name, definition=WAIT, roleArn=ROLE)


def test_invalid_definitions_list_their_problems(sfn: Any) -> None:
    bad = definition(A={"Type": "Pass", "Next": "Missing"}, B={"Type": "Wait", "End": True})
    with pytest.raises(sfn.exceptions.InvalidDefinition) as caught:
        sfn.create_state_machine(name=unique("bad"), definition=bad, roleArn=ROLE)
    message = caught.value.response["Error"]["Message"]
    assert "/States/A/Next" in message and "/States/B" in message
    result = sfn.validate_state_machine_definition(definition=bad)
    assert result["result"] == "FAIL"
    assert {d["location"] for d in result["diagnostics"]} >= {"/States/A/Next"}
    assert sfn.validate_state_machine_definition(definition=PASS)["result"] == "OK"


@pytest.mark.parametrize(
    ("name", "error"),
    [("has space", "InvalidName"), ("a/b", "InvalidName"), ("x" * 81, "ValidationException")],
)
def test_bad_machine_names(sfn: Any, name: str, error: str) -> None:
    with pytest.raises(ClientError) as caught:
        sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE)
    assert code(caught) == error


def test_bad_arns_are_invalid_arns(sfn: Any) -> None:
    for call in (
        lambda: sfn.describe_state_machine(stateMachineArn="not-an-arn"),
        lambda: sfn.describe_execution(
            executionArn="arn:aws:states:us-east-1:123456789012:stateMachine:m"),
        lambda: sfn.describe_activity(activityArn="arn:aws:sqs:us-east-1:1:q"),
    ):
        with pytest.raises(sfn.exceptions.InvalidArn):
            call()


def test_list_state_machines_pages(sfn: Any) -> None:
    names = {unique("page") for _ in range(3)}
    for name in names:
        sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE)
    seen = []
    for page in sfn.get_paginator("list_state_machines").paginate(PaginationConfig={
            "PageSize": 2}):
        assert len(page["stateMachines"]) <= 2
        seen += [m["name"] for m in page["stateMachines"]]
    assert names <= set(seen) and len(seen) == len(set(seen))
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_state_machines(nextToken="forged")


def test_versions_and_aliases(sfn: Any) -> None:
    arn = sfn.create_state_machine(name=unique("ver"), definition=PASS, roleArn=ROLE,
                                   publish=True)["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=WAIT)
    v2 = sfn.publish_state_machine_version(stateMachineArn=arn, description="v2")
    assert v2["stateMachineVersionArn"] == f"{arn}:2"
    versions = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [f"{arn}:2", f"{arn}:1"]
    described = sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert described["definition"] == PASS and described["stateMachineArn"] == f"{arn}:1"
    routing = [{"stateMachineVersionArn": f"{arn}:1", "weight": 90},
               {"stateMachineVersionArn": f"{arn}:2", "weight": 10}]
    alias = sfn.create_state_machine_alias(name="live", routingConfiguration=routing,
                                           description="canary")["stateMachineAliasArn"]
    assert alias == f"{arn}:live"
    got = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert got["routingConfiguration"] == routing and got["description"] == "canary"
    assert [a["stateMachineAliasArn"] for a in sfn.list_state_machine_aliases(
        stateMachineArn=arn)["stateMachineAliases"]] == [alias]
    with pytest.raises(sfn.exceptions.ConflictException):
        sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:2", "weight": 100}])
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:1")
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_state_machine_alias(stateMachineAliasArn=alias)


def test_alias_weights_must_add_up(sfn: Any) -> None:
    arn = sfn.create_state_machine(name=unique("w"), definition=PASS, roleArn=ROLE,
                                   publish=True)["stateMachineArn"]
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.create_state_machine_alias(name="a", routingConfiguration=[
            {"stateMachineVersionArn": f"{arn}:1", "weight": 50}])


def test_activities(sfn: Any) -> None:
    name = unique("pack")
    arn = sfn.create_activity(name=name, tags=[{"key": "k", "value": "v"}])["activityArn"]
    assert arn == f"arn:aws:states:us-east-1:123456789012:activity:{name}"
    assert sfn.describe_activity(activityArn=arn)["name"] == name
    assert name in [a["name"] for a in sfn.list_activities()["activities"]]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "k", "value": "v"}]
    sfn.delete_activity(activityArn=arn)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn=arn)


def test_tags(sfn: Any) -> None:
    arn = sfn.create_state_machine(name=unique("tags"), definition=PASS,
                                   roleArn=ROLE)["stateMachineArn"]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"},
                                            {"key": "b", "value": "2"}])
    sfn.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    with pytest.raises(sfn.exceptions.TooManyTags):
        sfn.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": ""}
                                                for i in range(60)])
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.list_tags_for_resource(resourceArn=arn + "-gone")
