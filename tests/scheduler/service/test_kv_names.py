"""Name rules and ARN parsing."""

from __future__ import annotations

import pytest

from scheduler.service.errors import InvalidArn, InvalidName, ValidationException
from scheduler.service.names import ArnKind, check_alias_name, check_name, expect_arn, parse_arn

BASE = "arn:aws:states:us-east-1:123456789012"


@pytest.mark.parametrize("name", ["a", "order-42_ok.v2", "x" * 80, "名前"])
def test_accepted_names(name: str) -> None:
    check_name(name)


@pytest.mark.parametrize("name", ["a b", "a/b", "a:b", "a*", "tab\t", "{x}", "a\x7f", "$x"])
def test_names_with_forbidden_characters_are_invalid_names(name: str) -> None:
    with pytest.raises(InvalidName, match="Invalid Name"):
        check_name(name)


@pytest.mark.parametrize("name", ["", "x" * 81])
def test_names_of_the_wrong_length_break_the_length_constraint(name: str) -> None:
    with pytest.raises(ValidationException, match="failed to satisfy constraint"):
        check_name(name)


def test_alias_names_cannot_be_only_digits() -> None:
    check_alias_name("prod-1")
    with pytest.raises(InvalidName):
        check_alias_name("12")


def test_arns_parse_by_kind() -> None:
    assert parse_arn(f"{BASE}:stateMachine:m").kind == ArnKind.STATE_MACHINE  # type: ignore[union-attr]
    version = parse_arn(f"{BASE}:stateMachine:m:3")
    assert version is not None and (version.kind, version.qualifier) == (ArnKind.VERSION, "3")
    alias = parse_arn(f"{BASE}:stateMachine:m:prod")
    assert alias is not None and alias.kind == ArnKind.ALIAS
    assert alias.machine_arn == f"{BASE}:stateMachine:m"
    execution = parse_arn(f"{BASE}:execution:m:e1")
    assert execution is not None and (execution.name, execution.qualifier) == ("m", "e1")
    express = parse_arn(f"{BASE}:express:m:e1:run")
    assert express is not None and express.kind == ArnKind.EXPRESS_EXECUTION
    assert parse_arn(f"{BASE}:activity:a") is not None
    for bad in ["foo", "arn:aws:lambda:us-east-1:1:function:f", f"{BASE}:stateMachine:", ""]:
        assert parse_arn(bad) is None


def test_expect_arn_names_the_wrong_resource_type() -> None:
    with pytest.raises(InvalidArn, match="Resource type not valid in this context: activity"):
        expect_arn(f"{BASE}:activity:a", ArnKind.STATE_MACHINE)
    with pytest.raises(InvalidArn, match="Invalid Arn: 'nope'"):
        expect_arn("nope", ArnKind.STATE_MACHINE)
