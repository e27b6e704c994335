"""State machines, revisions, versions, aliases, activities and tags."""

from __future__ import annotations

import pytest

from scheduler.service import StepFunctions
from scheduler.service.errors import (
    ActivityDoesNotExist,
    ConflictException,
    InvalidArn,
    InvalidDefinition,
    MissingRequiredParameter,
    ResourceNotFound,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    TooManyTags,
    ValidationException,
)
from scheduler.service.names import ArnKind, expect_arn
from tests.scheduler.service.conftest import PASS, WAIT, config, definition

BASE = "arn:aws:states:us-east-1:123456789012"


def test_create_describe_and_list(service: StepFunctions) -> None:
    machine, version = service.create_state_machine("orders", config(), tags={"team": "a"})
    assert machine.arn == f"{BASE}:stateMachine:orders" and version is None
    assert service.registry.get(machine.arn).machine_config().definition == PASS
    service.create_state_machine("billing", config())
    assert [m.name for m in service.registry.all()] == ["orders", "billing"]
    assert service.list_tags(machine.arn) == {"team": "a"}


def test_create_is_idempotent_for_the_same_configuration(service: StepFunctions) -> None:
    first, _ = service.create_state_machine("m", config())
    again, _ = service.create_state_machine("m", config())
    assert (again.arn, again.creation_date) == (first.arn, first.creation_date)
    with pytest.raises(StateMachineAlreadyExists, match="State Machine Already Exists"):
        service.create_state_machine("m", config(WAIT))


def test_invalid_definition_lists_every_problem_with_its_location(
    service: StepFunctions,
) -> None:
    bad = definition(A={"Type": "Pass", "Next": "Nowhere"}, B={"Type": "Bogus", "End": True})
    with pytest.raises(InvalidDefinition) as caught:
        service.create_state_machine("m", config(bad))
    message = caught.value.message
    assert message.startswith("Invalid State Machine Definition: '")
    assert "MISSING_TRANSITION_TARGET" in message and "/States/A/Next" in message
    assert "/States/B/Type" in message
    assert service.registry.all() == []


def test_express_machines_refuse_sync_integrations(service: StepFunctions) -> None:
    sync = definition(T={"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync",
                         "End": True})
    with pytest.raises(InvalidDefinition, match="Express state machine does not support"):
        service.create_state_machine("x", config(sync, "EXPRESS"))


def test_update_makes_a_new_revision_and_keeps_the_old(service: StepFunctions) -> None:
    machine, _ = service.create_state_machine("m", config())
    updated, version = service.update_state_machine(
        machine.arn, {"definition": WAIT}, publish=True, version_description="waits"
    )
    assert updated.revision_id != machine.revision_id and version is not None
    assert version.description == "waits"
    old = service.registry.revision("m", machine.revision_id)
    assert old is not None and old.machine_config().definition == PASS
    unchanged, _ = service.update_state_machine(machine.arn, {"definition": WAIT})
    assert unchanged.revision_id == updated.revision_id
    with pytest.raises(MissingRequiredParameter):
        service.update_state_machine(machine.arn, {"definition": None})
    with pytest.raises(ValidationException, match="only be set when publish is true"):
        service.update_state_machine(machine.arn, {"definition": PASS}, version_description="x")
    with pytest.raises(InvalidDefinition):
        service.update_state_machine(machine.arn, {"definition": "{"})


def test_unknown_and_foreign_machines_do_not_exist(service: StepFunctions) -> None:
    with pytest.raises(StateMachineDoesNotExist, match="State Machine Does Not Exist"):
        service.registry.get(f"{BASE}:stateMachine:nope")
    service.create_state_machine("m", config())
    with pytest.raises(StateMachineDoesNotExist):
        service.registry.get("arn:aws:states:eu-west-1:999999999999:stateMachine:m")
    with pytest.raises(InvalidArn):
        service.registry.get(f"{BASE}:activity:m")


def test_delete_removes_versions_aliases_and_tags(service: StepFunctions) -> None:
    machine, version = service.create_state_machine("m", config(), publish=True, tags={"k": "v"})
    assert version is not None
    service.versions.create_alias("live", None, [{"stateMachineVersionArn": version.arn,
                                                  "weight": 100}])
    service.delete_state_machine(machine.arn)
    service.delete_state_machine(machine.arn)  # idempotent
    with pytest.raises(StateMachineDoesNotExist):
        service.registry.get(machine.arn)
    again, _ = service.create_state_machine("m", config())
    assert service.versions.all("m") == [] and service.versions.aliases("m") == []
    assert service.list_tags(again.arn) == {}
    with pytest.raises(ValidationException):
        service.delete_state_machine(f"{machine.arn}:1")


def test_versions_are_numbered_and_never_reused(service: StepFunctions) -> None:
    machine, v1 = service.create_state_machine("m", config(), publish=True)
    assert v1 is not None and v1.arn == f"{machine.arn}:1"
    assert service.versions.publish(machine, None).arn == v1.arn  # same revision: same version
    with pytest.raises(ConflictException):
        service.versions.publish(machine, "another description")
    machine, v2 = service.update_state_machine(machine.arn, {"definition": WAIT}, publish=True)
    assert v2 is not None and v2.number == 2
    service.versions.delete(v2.arn)
    service.versions.delete(v2.arn)  # deleting a missing version is fine
    machine, _ = service.update_state_machine(machine.arn, {"definition": PASS})
    assert service.versions.publish(machine, None).number == 3
    assert [v.number for v in service.versions.all("m")] == [3, 1]
    with pytest.raises(ConflictException, match="current State Machine revision"):
        service.versions.publish(machine, None, revision_id="stale")


def test_aliases_route_by_weight_and_protect_their_versions(service: StepFunctions) -> None:
    machine, v1 = service.create_state_machine("m", config(), publish=True)
    _, v2 = service.update_state_machine(machine.arn, {"definition": WAIT}, publish=True)
    assert v1 is not None and v2 is not None
    routing = [{"stateMachineVersionArn": v1.arn, "weight": 25},
               {"stateMachineVersionArn": v2.arn, "weight": 75}]
    alias = service.versions.create_alias("live", "desc", routing)
    assert alias.arn == f"{machine.arn}:live"
    assert service.versions.create_alias("live", "desc", routing).arn == alias.arn
    with pytest.raises(ConflictException):
        service.versions.create_alias("live", "other", routing)
    service.versions.random = lambda: 0.2
    assert service.versions.route(alias) == v1.arn
    service.versions.random = lambda: 0.3
    assert service.versions.route(alias) == v2.arn
    with pytest.raises(ConflictException, match="referenced by an alias"):
        service.versions.delete(v1.arn)
    updated = service.versions.update_alias(
        alias.arn, None, [{"stateMachineVersionArn": v2.arn, "weight": 100}]
    )
    assert updated.routing == [{"stateMachineVersionArn": v2.arn, "weight": 100}]
    service.versions.delete(v1.arn)
    service.versions.delete_alias(alias.arn)
    with pytest.raises(ResourceNotFound):
        service.versions.get_alias(alias.arn)


@pytest.mark.parametrize(
    ("weights", "message"),
    [((50, 40), "equal to 100"), ((100,), None)],
)
def test_alias_weights_must_add_up_to_100(
    service: StepFunctions, weights: tuple[int, ...], message: str | None
) -> None:
    machine, v1 = service.create_state_machine("m", config(), publish=True)
    _, v2 = service.update_state_machine(machine.arn, {"definition": WAIT}, publish=True)
    assert v1 is not None and v2 is not None
    routing = [{"stateMachineVersionArn": v.arn, "weight": w}
               for v, w in zip((v1, v2), weights, strict=False)]
    if message is None:
        service.versions.create_alias("a", None, routing)
    else:
        with pytest.raises(ValidationException, match=message):
            service.versions.create_alias("a", None, routing)


def test_alias_routing_refuses_missing_and_mixed_versions(service: StepFunctions) -> None:
    machine, v1 = service.create_state_machine("m", config(), publish=True)
    other, w1 = service.create_state_machine("n", config(), publish=True)
    assert v1 is not None and w1 is not None
    with pytest.raises(ResourceNotFound):
        service.versions.create_alias("a", None, [{"stateMachineVersionArn": f"{machine.arn}:9",
                                                   "weight": 100}])
    with pytest.raises(ValidationException, match="same state machine"):
        service.versions.create_alias("a", None, [
            {"stateMachineVersionArn": v1.arn, "weight": 50},
            {"stateMachineVersionArn": w1.arn, "weight": 50},
        ])


def test_activities_and_their_tags(service: StepFunctions) -> None:
    activity = service.activities.create("work")
    assert activity.arn == f"{BASE}:activity:work"
    assert service.activities.create("work").creation_date == activity.creation_date
    service.tag_resource(activity.arn, {"a": "1", "b": "2"})
    service.untag_resource(activity.arn, ["a", "zz"])
    assert service.list_tags(activity.arn) == {"b": "2"}
    assert [a.name for a in service.activities.all()] == ["work"]
    service.delete_activity(activity.arn)
    service.delete_activity(activity.arn)
    with pytest.raises(ActivityDoesNotExist):
        service.activities.get(activity.arn)
    with pytest.raises(ResourceNotFound):
        service.list_tags(activity.arn)


def test_at_most_50_tags(service: StepFunctions) -> None:
    machine, _ = service.create_state_machine("m", config())
    service.tag_resource(machine.arn, {f"k{i}": "v" for i in range(50)})
    with pytest.raises(TooManyTags) as caught:
        service.tag_resource(machine.arn, {"one-more": "v"})
    assert caught.value.extra == {"resourceName": "m"}


def test_tags_only_on_machines_and_activities(service: StepFunctions) -> None:
    machine, version = service.create_state_machine("m", config(), publish=True)
    assert version is not None
    with pytest.raises(InvalidArn):
        service.list_tags(version.arn)
    assert expect_arn(machine.arn, ArnKind.STATE_MACHINE).name == "m"
